"""``break`` and ``continue`` for ``jit.script``: a loop whose body uses them is rewritten, before compiling, into
one without them, as TorchScript's frontend lowers them: a flag per exit (``break`` sets the loop's break flag,
``continue`` the iteration's continue flag), the statements after a possible exit run under ``if`` neither is set,
the loop stops at its next test once the break flag is set, and its ``else`` runs only if the flag was never set."""
import ast

__all__ = []


def exits(loop):
    """Whether ``loop``'s own body (not a nested loop's) holds a ``break`` or ``continue``."""
    return any(True for _ in _own_exits(loop.body))


def _own_exits(statements):
    for statement in statements:
        if isinstance(statement, (ast.Break, ast.Continue)):
            yield statement
        elif not isinstance(statement, (ast.For, ast.While, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            yield from _own_exits([child for child in ast.iter_child_nodes(statement) if isinstance(child, ast.stmt)])


def lower(loop, number):
    """Statements equivalent to ``loop`` without its own ``break``/``continue``; ``number`` makes the flags' names
    unique. The returned loop carries ``exit_flag``, the break flag's name, for the compiler's next-trip test."""
    broke, skipped = f"__break_{number}", f"__continue_{number}"
    uses_continue = any(isinstance(e, ast.Continue) for e in _own_exits(loop.body))
    flags = [broke, skipped] if uses_continue else [broke]
    body = _guarded(loop.body, flags, broke, skipped)
    if uses_continue:
        body = [_set(skipped, False)] + body
    if isinstance(loop, ast.While):   # the test is evaluated only while the loop has not broken
        test = ast.BoolOp(ast.And(), [ast.UnaryOp(ast.Not(), _name(broke)), loop.test])
        lowered = ast.While(test, body, [])
    else:
        lowered = ast.For(loop.target, loop.iter, [ast.If(ast.UnaryOp(ast.Not(), _name(broke)), body, [])], [], None)
    lowered.exit_flag = broke
    statements = [_set(broke, False), lowered]
    if loop.orelse:
        statements.append(ast.If(ast.UnaryOp(ast.Not(), _name(broke)), loop.orelse, []))
    for statement in statements:
        ast.copy_location(statement, loop)
        ast.fix_missing_locations(statement)
    return statements


def _guarded(statements, flags, broke, skipped):
    """``statements`` with exits turned into flag assignments and what follows a possible exit put under ``if`` no
    flag is set."""
    result = []
    for i, statement in enumerate(statements):
        if isinstance(statement, ast.Break):
            result.append(ast.copy_location(_set(broke, True), statement))
            return result   # the rest of this block cannot run
        if isinstance(statement, ast.Continue):
            result.append(ast.copy_location(_set(skipped, True), statement))
            return result
        if isinstance(statement, ast.If) and any(True for _ in _own_exits([statement])):
            statement = ast.copy_location(ast.If(statement.test, _guarded(statement.body, flags, broke, skipped),
                                                 _guarded(statement.orelse, flags, broke, skipped)), statement)
            result.append(statement)
            rest = _guarded(statements[i + 1:], flags, broke, skipped)
            if rest:
                none_set = ast.UnaryOp(ast.Not(), ast.BoolOp(ast.Or(), [_name(f) for f in flags]) if len(flags) > 1
                                       else _name(flags[0]))
                result.append(ast.copy_location(ast.If(none_set, rest, []), statement))
            return result
        result.append(statement)
    return result


def _name(name):
    return ast.Name(name, ast.Load())


def _set(name, value):
    return ast.Assign([ast.Name(name, ast.Store())], ast.Constant(value))
