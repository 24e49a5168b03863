"""Fits y = sin(x) on [-pi, pi] with a cubic polynomial by gradient descent, using only ember's autograd."""
import math

import ember as torch

torch.manual_seed(0) if hasattr(torch, "manual_seed") else None
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x) if hasattr(torch, "sin") else None
coefficients = torch.zeros(4, requires_grad=True)
learning_rate = 1e-6

for step in range(2000):
    a, b, c, d = coefficients[0], coefficients[1], coefficients[2], coefficients[3]
    prediction = a + b * x + c * x ** 2 + d * x ** 3
    loss = ((prediction - y) ** 2).sum()
    if step % 400 == 0:
        print(f"step {step:4d}  loss {loss.item():10.3f}")
    loss.backward()
    with torch.no_grad():
        coefficients -= learning_rate * coefficients.grad
        coefficients.grad = None

a, b, c, d = coefficients.tolist()
print(f"learned: y = {a:.4f} + {b:.4f} x + {c:.4f} x^2 + {d:.4f} x^3   (final loss {loss.item():.3f})")
