"""The order PyTorch's CPU ``sort(stable=False)`` and ``topk`` give equal keys: its kernels sort (key, index) pairs with
libstdc++'s ``std::sort`` (introsort: median-of-three Hoare partitions down to runs of 16, a heap sort past
2 * log2(n) levels, then insertion sort), whose moves decide where ties land (checked against torch 2.13 on rows up
to 20,000 elements). This is that algorithm step by step on a list, for the rows that have ties (~4 us an
element); ``LIMIT`` bounds the rows it runs on (above it PyTorch's large-input paths differ too) and ``BUDGET`` the
elements of one call's tied rows: beyond either, ties keep the stable order."""

LIMIT = 16384
BUDGET = 65536
_THRESHOLD = 16


def _less(descending, nan_aware):
    """PyTorch's key comparators: NaN sorts as the largest value (both directions keep it that way)."""
    if not nan_aware:
        return (lambda x, y: x > y) if descending else (lambda x, y: x < y)
    if descending:
        return lambda x, y: (x != x and y == y) or x > y
    return lambda x, y: (x == x and y != y) or x < y


def std_sort_order(keys, descending, nan_aware):
    """The permutation ``std::sort`` leaves on indices 0..n-1 of ``keys`` (a list) under PyTorch's comparator."""
    return _run(keys, descending, nan_aware, "sort", None)


def std_topk_order(keys, k, largest, nan_aware):
    """The first ``k`` indices PyTorch's CPU ``topk(sorted=True)`` returns for ``keys``: ``std::partial_sort`` when
    ``k * 64 <= n``, else ``std::nth_element`` at ``k - 1`` then ``std::sort`` of the first ``k - 1``."""
    if k * 64 <= len(keys):
        return _run(keys, largest, nan_aware, "partial_sort", k)[:k]
    return _run(keys, largest, nan_aware, "nth_element", k)[:k]


def _run(keys, descending, nan_aware, algorithm, k):
    less = _less(descending, nan_aware)
    a = list(range(len(keys)))

    def comp(i, j):
        return less(keys[i], keys[j])

    def adjust_heap(first, hole, length, value):
        top, child = hole, hole
        while child < (length - 1) // 2:
            child = 2 * (child + 1)
            if comp(a[first + child], a[first + child - 1]):
                child -= 1
            a[first + hole] = a[first + child]
            hole = child
        if length % 2 == 0 and child == (length - 2) // 2:
            child = 2 * (child + 1)
            a[first + hole] = a[first + child - 1]
            hole = child - 1
        parent = (hole - 1) // 2
        while hole > top and comp(a[first + parent], value):
            a[first + hole] = a[first + parent]
            hole, parent = parent, (parent - 1) // 2
        a[first + hole] = value

    def heap_sort(first, last):
        length = last - first
        for parent in range((length - 2) // 2, -1, -1):
            adjust_heap(first, parent, length, a[first + parent])
        while last - first > 1:
            last -= 1
            value, a[last] = a[last], a[first]
            adjust_heap(first, 0, last - first, value)

    def median_to_first(result, x, y, z):
        if comp(a[x], a[y]):
            pick = y if comp(a[y], a[z]) else z if comp(a[x], a[z]) else x
        elif comp(a[x], a[z]):
            pick = x
        else:
            pick = z if comp(a[y], a[z]) else y
        a[result], a[pick] = a[pick], a[result]

    def partition(first, last, pivot):
        while True:
            while comp(a[first], a[pivot]):
                first += 1
            last -= 1
            while comp(a[pivot], a[last]):
                last -= 1
            if not first < last:
                return first
            a[first], a[last] = a[last], a[first]
            first += 1

    def introsort(first, last, depth):
        while last - first > _THRESHOLD:
            if depth == 0:
                heap_sort(first, last)
                return
            depth -= 1
            median_to_first(first, first + 1, first + (last - first) // 2, last - 1)
            cut = partition(first + 1, last, first)
            introsort(cut, last, depth)
            last = cut

    def insertion(first, last, guarded):
        for i in range(first + (1 if guarded else 0), last):
            value = a[i]
            if guarded and comp(value, a[first]):
                a[first + 1:i + 1] = a[first:i]
                a[first] = value
                continue
            j = i
            while comp(value, a[j - 1]):
                a[j] = a[j - 1]
                j -= 1
            a[j] = value

    def make_heap(first, last):
        length = last - first
        if length < 2:
            return
        for parent in range((length - 2) // 2, -1, -1):
            adjust_heap(first, parent, length, a[first + parent])

    def sort(first, last):
        n = last - first
        if n > 1:
            introsort(first, last, 2 * (n.bit_length() - 1))
            if n > _THRESHOLD:
                insertion(first, first + _THRESHOLD, True)
                insertion(first + _THRESHOLD, last, False)
            else:
                insertion(first, last, True)

    def partial_sort(first, middle, last):   # __heap_select, then __sort_heap of [first, middle)
        make_heap(first, middle)
        for i in range(middle, last):
            if comp(a[i], a[first]):
                value, a[i] = a[i], a[first]
                adjust_heap(first, 0, middle - first, value)
        while middle - first > 1:
            middle -= 1
            value, a[middle] = a[middle], a[first]
            adjust_heap(first, 0, middle - first, value)

    def nth_element(first, nth, last):
        depth = 2 * ((last - first).bit_length() - 1)
        while last - first > 3:
            if depth == 0:
                make_heap(first, nth + 1)
                for i in range(nth + 1, last):
                    if comp(a[i], a[first]):
                        value, a[i] = a[i], a[first]
                        adjust_heap(first, 0, nth + 1 - first, value)
                a[first], a[nth] = a[nth], a[first]
                return
            depth -= 1
            median_to_first(first, first + 1, first + (last - first) // 2, last - 1)
            cut = partition(first + 1, last, first)
            if cut <= nth:
                first = cut
            else:
                last = cut
        insertion(first, last, True)

    n = len(a)
    if algorithm == "sort":
        sort(0, n)
    elif algorithm == "partial_sort":
        partial_sort(0, k, n)
    elif n:
        nth_element(0, k - 1, n)
        sort(0, k - 1)
    return a


def quick_select_index(keys, k, nan_aware):
    """The index PyTorch's CPU ``kthvalue`` reports for the ``k``-th smallest (0-based) of ``keys``: its own
    quickselect (``quick_select_template``: median-of-three pivot, Hoare partition) on (value, index) pairs."""
    values, order = list(keys), list(range(len(keys)))
    greater = _less(True, nan_aware)

    def swap(i, j):
        values[i], values[j] = values[j], values[i]
        order[i], order[j] = order[j], order[i]

    low, high = 0, len(values) - 1
    while high > low:
        if high == low + 1:
            if greater(values[low], values[high]):
                swap(low, high)
            break
        swap(low + (high - low) // 2, low + 1)
        if greater(values[low + 1], values[high]):
            swap(low + 1, high)
        if greater(values[low], values[high]):
            swap(low, high)
        if greater(values[low + 1], values[low]):
            swap(low + 1, low)
        i, j, pivot = low + 1, high, values[low]
        while True:
            i += 1
            while greater(pivot, values[i]):
                i += 1
            j -= 1
            while greater(values[j], pivot):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(low, j)
        if j <= k:
            low = i
        if j >= k:
            high = j - 1
    return order[k]
