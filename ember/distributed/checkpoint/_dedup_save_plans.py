"""Replicated items are written once: each item every rank planned goes to the rank with the fewest bytes so far (or
the lowest rank), as PyTorch's ``dedup_save_plans``."""
import dataclasses
from collections import defaultdict

__all__ = ["dedup_save_plans"]


def dedup_save_plans(all_plans, save_to_lowest_rank=False):
    """Removes duplicate entries from appearing on multiple SavePlans."""
    item_to_plans = defaultdict(set)
    items = {}
    plan_to_item_indices = [{item.index for item in plan.items} for plan in all_plans]
    for plan_idx, plan in enumerate(all_plans):
        for write_item in plan.items:
            item_to_plans[write_item.index].add(plan_idx)
            items[write_item.index] = write_item
    plan_to_size = [0] * len(all_plans)
    for index, plan_indices in item_to_plans.items():
        chosen = min(plan_indices) if save_to_lowest_rank else min(plan_indices, key=lambda i: plan_to_size[i])
        plan_to_size[chosen] += items[index].tensor_storage_size() or 1
        for plan_idx in plan_indices - {chosen}:
            plan_to_item_indices[plan_idx].discard(index)
    return [dataclasses.replace(plan, items=[item for item in plan.items if item.index in kept])
            for plan, kept in zip(all_plans, plan_to_item_indices)]
