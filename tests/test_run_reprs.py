"""Under ``ember run`` a program prints PyTorch's names (``torch.Size``, ``torch.float32``, ``torch.FloatTensor``) as
it does on PyTorch; without the alias ember prints its own."""
import ember
from tests.test_run import ember_run, python, write


def test_reprs_under_ember_run_print_what_pytorch_prints(tmp_path):
    write(tmp_path, "prog.py", '''
        import torch
        x = torch.ones(2, 3)
        print(x.shape, repr(x.size()), x.shape[1:], [x.shape], f"{torch.Size([4])}")
        print(x.dtype, torch.int64, repr(torch.bfloat16), x.type(), torch.FloatTensor, torch.zeros(2, dtype=torch.int32))
        ''')
    mine, theirs = ember_run(tmp_path, "prog.py"), python(tmp_path, "prog.py")
    assert mine.returncode == theirs.returncode == 0, mine.stderr + theirs.stderr
    assert mine.stdout == theirs.stdout
    assert "torch.Size([2, 3])" in mine.stdout


def test_reprs_without_the_alias_name_ember():
    x = ember.ones(2, 3)
    assert (repr(x.shape), repr(x.dtype), x.type()) == ("ember.Size([2, 3])", "ember.float32", "ember.FloatTensor")
