"""Model architectures with torchvision's layer names, so torchvision state_dicts load."""
