"""The compiled solver specialised to one model: the Rosenbrock driver with the model's rhs called directly.

Why: ``ckdmbd.solvers.rosenbrock`` takes the right-hand side as a first-class function pointer so that one cached
machine-code version serves every model. Converting a jitted rhs to that pointer costs ~150 µs per call from Python,
and a dialysis year calls the solver 313 times; the pointer also keeps the rhs from being inlined. Passing the
dispatcher itself as an argument instead would defeat numba's on-disk cache (a dispatcher argument is a dynamic
global). So the composer writes a copy of the driver's functions into the generated model module, with ``rhs`` a
module global there: the solver then compiles against that rhs, caches on disk with the model, and is called
without any conversion.

The copy is made from the solver's own source by a syntax-tree transformation (drop the ``rhs`` parameter and the
``rhs`` argument of calls between these functions), so there is one solver, not two; the generated module's name
hashes the solver's source, so a change there can never run stale code.
"""

from __future__ import annotations

import ast
import inspect

import ckdmbd.solvers.rosenbrock as rosenbrock

SPECIALISED = ("_fd_jacobian", "_coloured_jacobian", "_rodas_step", "_initial_step", "_integrate", "fd_jacobian",
               "_integrate_run", "_integrate_many", "_observe_rows", "_factor_iteration", "_solve_iteration")
"""Driver functions that take ``rhs`` (copied with ``rhs`` bound to the generated module's global), and those that
call a hook (``_factor_iteration``, ``_solve_iteration``: copied so that they call this module's LU)."""
HOOKS = ("_n_outputs", "_colour_setup", "_colour_rhs", "_analytic_jacobian", "_analytic_jacobian_f", "_observe",
         "_own_plan", "_own_factor", "_own_solve")
"""Functions the generated module defines itself (without ``rhs``): the per-colour partial evaluation, the
analytic Jacobian and the straight-line sparse LU of the model's plan (:func:`ckdmbd.solvers.sparse_lu.
straight_line_source`); ``_observe`` (the model's outputs at one point, for the batch's reduced outputs) is written
here, as the generated module's ``observe``."""
PARALLEL = ("_integrate_many",)
"""Copied functions compiled with ``parallel=True`` (their ``prange`` loop spreads patients over the threads), and
once more as ``<name>_serial`` without it: a forked worker process must not enter the OpenMP runtime its parent
started (GNU OpenMP is not fork-safe), and one thread needs no threading layer."""


class _DropRhs(ast.NodeTransformer):
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        self.generic_visit(node)
        node.args.args = [a for a in node.args.args if a.arg != "rhs"]
        for a in node.args.args:
            a.annotation = None
        node.returns = None
        node.decorator_list = []
        return node

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in SPECIALISED + HOOKS and node.args \
                and isinstance(node.args[0], ast.Name) and node.args[0].id == "rhs":
            node.args = node.args[1:]
        return node


def specialised_solver_source(decorator: str) -> str:
    """Source of the driver functions without their ``rhs`` parameter, each under ``decorator``, preceded by an
    import of every module-level name of the solver they use."""
    functions = []
    used: set[str] = set()
    for name in SPECIALISED:
        tree = ast.parse(inspect.getsource(getattr(rosenbrock, name)))
        tree = ast.fix_missing_locations(_DropRhs().visit(tree))
        used |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        if name in PARALLEL:  # the threaded version, and a serial one (prange as range) for forked workers
            functions.append(f"{decorator.replace('cache=True', 'cache=True, parallel=True')}\n{ast.unparse(tree)}\n")
            tree.body[0].name = f"{name}_serial"
        functions.append(f"{decorator}\n{ast.unparse(tree)}\n")
    imports = sorted(n for n in used if n not in SPECIALISED + HOOKS and n != "rhs" and hasattr(rosenbrock, n)
                     and not n.startswith("__"))
    header = f"from ckdmbd.solvers.rosenbrock import {', '.join(imports)}\n"
    observe_hook = f"{decorator}\ndef _observe(t, y, p, o):\n    observe(t, y, p, o)\n"
    return header + "\n\n".join([*functions, observe_hook])
