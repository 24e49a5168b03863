"""The modules behind ``ember.utils.benchmark``, laid out as PyTorch's ``torch.utils.benchmark.utils``:
``common`` (TaskSpec, Measurement, unit helpers), ``timer`` (Timer, Language) and ``compare`` (Compare)."""
