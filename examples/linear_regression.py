"""Seed 002's linear regression: nn.Linear(1, 1) fitted with SGD and MSELoss on noisy points of y = 2x + 1."""
import ember as torch
import ember.nn as nn

torch.manual_seed(0)
model = nn.Linear(1, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
criterion = nn.MSELoss()

x = torch.randn(100, 1)
y = 2 * x + 1 + 0.1 * torch.randn(100, 1)

for i in range(500):
    y_pred = model(x)
    loss = criterion(y_pred, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if i % 100 == 0:
        print(f"step {i:3d}  loss {loss.item():.4f}")

print(f"learned y = {model.weight.item():.3f} x + {model.bias.item():.3f}   (true: y = 2x + 1)")
