"""Seed 002's autograd examples: a dynamic graph, f(x, y) = x^2 + y^2 and its gradient."""
import ember as torch

x = torch.Tensor([[1, 2], [3, 4]])
print(x)

x = torch.Tensor([1, 2])
y = torch.Tensor([3, 4])
z = x + y
print(z)

x = torch.tensor([1.0], requires_grad=True)
y = torch.tensor([2.0], requires_grad=True)
z = x ** 2 + y ** 2
z.backward()
print(x.grad)   # tensor([2.])
print(y.grad)   # tensor([4.])
print(z.grad_fn, z.grad_fn.next_functions)
