"""``break``, ``continue`` and ``return`` inside loops for ``jit.script``: a loop whose body uses them is rewritten,
before compiling, into one without them, as TorchScript's frontend lowers them: a flag per exit (``break`` sets the
loop's break flag, ``continue`` the iteration's continue flag, ``return`` a returned flag and value, then breaks out
of every enclosing loop), the statements after a possible exit run under ``if`` no flag is set, the loop stops at its
next test once the break flag is set, its ``else`` runs only if the flag was never set, and after the outermost loop
the value is returned if the returned flag is set."""
import ast

__all__ = []


def exits(loop):
    """Whether ``loop``'s own body (not a nested loop's) holds a ``break`` or ``continue``, or its body a
    ``return``."""
    return any(True for _ in _own_exits(loop.body)) or _returns(loop.body)


def _returns(statements):
    return any(isinstance(node, ast.Return) for statement in statements for node in ast.walk(statement))


def _own_exits(statements):
    for statement in statements:
        if isinstance(statement, (ast.Break, ast.Continue)):
            yield statement
        elif not isinstance(statement, (ast.For, ast.While, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            yield from _own_exits([child for child in ast.iter_child_nodes(statement) if isinstance(child, ast.stmt)])


def lower(loop, number, returned=None):
    """Statements equivalent to ``loop`` without its own ``break``/``continue`` or any ``return``; ``number`` makes
    the flags' names unique. A ``return`` sets a returned flag and the value (``returned``: their names, shared by
    the loops nested in the outermost one), then breaks out of each enclosing loop; after the outermost loop the
    value is returned if the flag is set. The returned loop carries ``exit_flag``, the break flag's name, for the
    compiler's next-trip test."""
    broke, skipped = f"__break_{number}", f"__continue_{number}"
    outermost = returned is None and _returns(loop.body)
    if outermost:
        returned = (f"__returned_{number}", f"__return_value_{number}")
    body = _returns_as_breaks(loop.body, returned, number) if returned else loop.body
    uses_continue = any(isinstance(e, ast.Continue) for e in _own_exits(body))
    flags = [broke, skipped] if uses_continue else [broke]
    body = _guarded(body, flags, broke, skipped)
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
    if outermost:
        statements = [_set(returned[0], False), _set(returned[1], None)] + statements + [
            ast.If(_name(returned[0]), [ast.Return(_name(returned[1]))], [])]
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


def _returns_as_breaks(statements, returned, number):
    """``statements`` with each ``return`` made the returned flag and value set, then a ``break``; a nested loop that
    returns is lowered here (sharing ``returned``) and followed by a ``break`` where it returned."""
    result = []
    for i, statement in enumerate(statements):
        if isinstance(statement, ast.Return):
            value = statement.value if statement.value is not None else ast.Constant(None)
            result += [ast.copy_location(ast.Assign([ast.Name(returned[1], ast.Store())], value), statement),
                       ast.copy_location(_set(returned[0], True), statement), ast.copy_location(ast.Break(), statement)]
        elif isinstance(statement, ast.If) and _returns([statement]):
            result.append(ast.copy_location(ast.If(statement.test,
                                                   _returns_as_breaks(statement.body, returned, number),
                                                   _returns_as_breaks(statement.orelse, returned, number)), statement))
        elif isinstance(statement, (ast.For, ast.While)) and _returns(statement.body):
            result += lower(statement, f"{number}_{i}", returned)
            result.append(ast.copy_location(ast.If(_name(returned[0]), [ast.Break()], []), statement))
        else:
            result.append(statement)
    return result


def _name(name):
    return ast.Name(name, ast.Load())


def _set(name, value):
    return ast.Assign([ast.Name(name, ast.Store())], ast.Constant(value))
