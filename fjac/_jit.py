"""jit: record the primitives a call applies once, then replay them as straight NumPy calls.

The first call with a given signature (the arguments' tree structure, shapes and dtypes, and
the values of static arguments) runs ``fun`` under a recording trace. Each primitive applied to
a value that depends on the arguments is computed as usual and written down as an equation
over numbered slots; values that do not depend on the arguments are constants. Later calls with
the same signature skip Python tracing altogether: they run the recorded equations, calling each
primitive's NumPy implementation on the slots, and free each slot after its last use.

``jit(grad(f))`` records the backward pass too, so the replay is the gradient program itself.
The recording is only valid for every value of the arguments if nothing in the call looked at
their values: Python control flow on a traced value, or an operation whose result's shape
depends on values, raises ``ConcretizationError`` during the recording.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import numpy as np

from fjac import _transform_io
from fjac._core import MainTrace, Primitive, Tracer, bind, live_mains, new_main, shape_of, snapshot
from fjac._dtypes import dtype_of
from fjac._rules import value_shaped
from fjac.errors import ConcretizationError
from fjac.tree import (
    PyTreeDef,
    SequenceKey,
    keystr,
    tree_flatten,
    tree_flatten_with_path,
    tree_leaves,
    tree_unflatten,
)

__all__ = ["jit", "JitTracer", "JitTrace", "check_closed_over"]


class JitTracer(Tracer):
    """A value under jit: its concrete value (``primal``) and the slot it is recorded in."""

    __slots__ = ("slot",)
    _abstract = True  # its value is an example; the program must not depend on it

    def __init__(self, main: MainTrace, primal: Any, slot: int) -> None:
        self._main = main
        self.primal = primal
        self.slot = slot

    @property
    def shape(self) -> tuple[int, ...]:
        return shape_of(self.primal)  # (a primitive may give a Python number or bool)

    @property
    def dtype(self) -> np.dtype[Any]:
        return dtype_of(self.primal)

    def _concretization_error(self) -> ConcretizationError:
        return ConcretizationError(concretization_message(self))

    def _convert_error(self, kind: str) -> ConcretizationError:
        return self._concretization_error()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray[Any, Any]:
        raise self._concretization_error()


# An equation as recorded: (primitive, params, input slots, output slot or tuple of slots).
_Eqn = tuple[Primitive, dict[str, Any], tuple[int, ...], "int | tuple[int, ...]"]


def _changed(x: Any, kept: Any) -> bool:
    """Whether a mutable constant seen before differs, in any bit, from the snapshot taken
    then (compared in place: a 1000x1000 matrix takes 0.2 ms)."""
    if isinstance(x, np.ndarray) and x is not kept:
        if x.dtype != kept.dtype or x.shape != kept.shape:
            return True
        bits = _UINTS.get(x.dtype.itemsize) if x.dtype.kind in "biufcmM" else None
        if bits is None:
            return bool(x.tobytes() != kept.tobytes())
        return not bool(np.array_equal(x.view(bits), kept.view(bits)))
    return type(x) is list  # (a list is compared by a new snapshot each time)


_UINTS = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _const_key(x: Any) -> Any:
    """What makes two constants one: the same object, or for arrays the same memory seen the
    same way (``W.T`` made afresh at each use of ``W``)."""
    if isinstance(x, np.ndarray):
        root = _root(x)
        if root is not x and isinstance(root, np.ndarray):
            start = x.__array_interface__["data"][0] - root.__array_interface__["data"][0]
            return (id(root), start, x.shape, x.strides, x.dtype.str, type(x))
    return id(x)


class JitTrace(MainTrace):
    """Recording interpretation: compute each primitive on the example values and append an
    equation over slots. Slots number the inputs, the constants and the results in one row."""

    __slots__ = ("eqns", "consts", "kept", "const_slots", "slots", "foreign", "busy")
    kind = "jit"

    def __init__(self, level: int, transform: str) -> None:
        super().__init__(level, transform)
        self.eqns: list[_Eqn] = []
        self.consts: dict[int, Any] = {}  # slot -> constant value
        self.kept: list[Any] = []  # each object seen as a constant: alive, so ids stay its own
        self.const_slots: dict[Any, int] = {}  # _const_key -> slot: a constant is kept once
        self.slots = 0
        self.foreign = False  # was a tracer captured as a constant? (then not reusable)
        self.busy = ""  # the primitive whose implementation is running, if any

    def _fresh(self) -> int:
        self.slots += 1
        return self.slots - 1

    def new_input(self, x: Any) -> JitTracer:
        return JitTracer(self, x, self._fresh())

    def _const_slot(self, x: Any) -> int:
        """The slot of a constant: one per object, unless it is mutable and has changed since
        (a buffer the function fills as it goes), each holding a snapshot."""
        key = _const_key(x)
        slot = self.const_slots.get(key)
        if slot is not None and not _changed(x, self.consts[slot]):
            return slot
        if isinstance(x, Tracer):
            # A value traced by an enclosing transform that the function closes over: it is
            # a constant of this call only, so the recording cannot be reused.
            self.foreign = True
        slot = self.const_slots[key] = self._fresh()
        self.kept.append(x)
        self.consts[slot] = snapshot(x)
        return slot

    def process(self, prim: Primitive, args: tuple[Any, ...], params: dict[str, Any]) -> Any:
        if self.busy:
            raise TypeError(
                f"jit: '{prim.name}' is applied to a traced value inside the implementation of "
                f"'{self.busy}', which jit records as one step: a custom_jvp or custom_vjp "
                "function (or its rules) closes over a traced value. Pass that value to it as "
                "an argument instead"
            )
        primals = []
        ins = []
        for x in args:
            if type(x) is JitTracer and x._main is self:
                primals.append(x.primal)
                ins.append(x.slot)
            else:
                primals.append(x)
                ins.append(self._const_slot(x))
        check = value_shaped.get(prim)
        if check is not None and check(*args, **params):
            raise ConcretizationError(_value_shaped_message(prim))
        if any(isinstance(v, (np.ndarray, tuple)) for v in params.values()):
            params = {k: snapshot(v) for k, v in params.items()}  # (index arrays)
        self.busy = prim.name
        try:
            ans = bind(prim, *primals, **params)
        finally:
            self.busy = ""
        if prim.multiple_results:
            outs = tuple(JitTracer(self, a, self._fresh()) for a in ans)
            self.eqns.append((prim, params, tuple(ins), tuple(t.slot for t in outs)))
            return outs
        out = JitTracer(self, ans, self._fresh())
        self.eqns.append((prim, params, tuple(ins), out.slot))
        return out


def check_closed_over(values: Any, owner: str) -> None:
    """Vet traced values that a primitive's parameters capture in a closure (a custom rule's
    fixed arguments). One traced by a jit that is recording would be replayed with this call's
    value: refused. One traced by an enclosing transform makes the recordings in progress above
    it single-use (the call is run, not kept)."""
    tracers = [x for x in tree_leaves(values) if isinstance(x, Tracer)]
    if not tracers:
        return
    recording = [m for m in live_mains() if isinstance(m, JitTrace)]
    for x in tracers:
        level = x._main.level
        if any(m.level <= level for m in recording):
            raise TypeError(
                f"{owner}: an argument in nondiff_argnums is a traced array ({x.dtype}"
                f"[{','.join(map(str, x.shape))}]) under jit, which cannot record a rule that "
                "holds it. Make it a differentiated argument (its cotangent may be None), or "
                "mark it static in jit (static_argnums) if it is a Python value"
            )
        for m in recording:
            m.foreign = True


def _value_shaped_message(prim: Primitive) -> str:
    return (
        f"jit: '{prim.name}' here gives a result whose shape depends on the values of traced "
        "arrays (a boolean mask, nonzero), and jit records one program for every value of the "
        "arguments. Use fjac.numpy.where to keep the shape fixed, mark the argument the mask "
        "comes from static (static_argnums), or call the function without jit"
    )


def concretization_message(x: Tracer) -> str:
    """What a user reads when code under jit asks for a traced value (``if x > 0:``)."""
    dims = ",".join(str(d) for d in x.shape)
    return (
        f"jit: the value of a traced array ({x.dtype}[{dims}]) was needed (for Python control "
        "flow such as if, while or bool(), or to choose a code path), but jit records one "
        "program for every value of the arguments. Use fjac.numpy.where for a choice made per "
        "value, mark the argument static (static_argnums or static_argnames) if the choice "
        "depends on it alone, or call the function without jit"
    )


class _Program:
    """A recorded call, ready to replay: equations over a row of slots, with each slot freed
    after its last use and the equations whose results nothing reads left out."""

    __slots__ = ("num_inputs", "template", "eqns", "outputs", "out_tree", "const_ids")

    def __init__(
        self, trace: JitTrace, num_inputs: int, outputs: list[Any], out_tree: PyTreeDef
    ) -> None:
        self.num_inputs = num_inputs
        self.out_tree = out_tree
        # an output is ("slot", n) or ("const", value)
        self.outputs = outputs
        out_slots = {v for k, v in outputs if k == "slot"}
        needed = set(out_slots)
        kept: list[_Eqn] = []
        for eqn in reversed(trace.eqns):  # dead-code elimination, from the outputs back
            out = eqn[3]
            produced = out if isinstance(out, tuple) else (out,)
            if any(s in needed for s in produced):
                kept.append(eqn)
                needed.update(eqn[2])
        kept.reverse()
        self.template: list[Any] = [None] * trace.slots
        for slot, value in trace.consts.items():
            if slot in needed:
                self.template[slot] = value
        self.const_ids = {id(v) for v in self.template if isinstance(v, np.ndarray)}
        # Free each slot (input, constant or result) right after the equation that reads it
        # last, so memory falls during the replay as it does in the eager call.
        last: dict[int, int] = {}
        for k, (_, _, ins, out) in enumerate(kept):
            for s in out if isinstance(out, tuple) else (out,):
                last[s] = k  # a result nothing reads is freed at once
            for s in ins:
                last[s] = k
        dead: list[list[int]] = [[] for _ in kept]
        for s, k in last.items():
            if s not in out_slots:
                dead[k].append(s)
        # Kept as columns, not one tuple per equation: the cycle collector then tracks a few
        # lists instead of one object per equation (a long program would slow every full
        # collection of the process).
        self.eqns = (
            [eqn[0].impl for eqn in kept],
            [eqn[0] for eqn in kept],
            [eqn[1] for eqn in kept],
            [eqn[2] for eqn in kept],
            [eqn[3] for eqn in kept],
            [tuple(d) for d in dead],
            [_call_kind(eqn) for eqn in kept],
        )

    def run(self, inputs: list[Any], plain: bool = False) -> Any:
        """Replay on ``inputs`` (one per input slot): NumPy calls, or ``bind`` where an input
        is a tracer of an enclosing transform (which then sees every primitive). ``plain``:
        the caller knows that every input is an ndarray."""
        env = self.template.copy()
        env[: self.num_inputs] = inputs
        if plain or not any(isinstance(x, Tracer) for x in inputs):
            _replay_impl(self.eqns, env)
        else:
            _replay_bind(self.eqns, env)
        outs = []
        input_ids = None
        for kind, v in self.outputs:
            if kind == "slot":
                if input_ids is None:
                    input_ids = {id(x) for x in inputs}
                outs.append(_result(env[v], input_ids, self.const_ids))
            else:  # a constant: a fresh copy, so the caller cannot change the recording
                outs.append(np.array(v, copy=True))
        return tree_unflatten(self.out_tree, outs)


def _result(value: Any, input_ids: set[int], const_ids: set[int]) -> Any:
    """A computed output as returned: an array, and a copy where it is an argument itself
    (``x.astype(x.dtype)``) or the memory of a recorded constant (passed through a custom
    function), which are never the caller's to change."""
    if type(value) is not np.ndarray:
        return _transform_io.as_output(value)
    if id(value) in input_ids or id(_root(value)) in const_ids:
        return value.copy()
    return value


def _root(x: np.ndarray[Any, Any]) -> Any:
    """The array whose memory ``x`` views (``x`` itself when it owns its memory)."""
    while isinstance(x.base, np.ndarray):
        x = x.base
    return x


def _call_kind(eqn: _Eqn) -> int:
    """How the replay calls an equation: 1 and 2, that many arrays and no parameters (most
    elementwise operations: ``**{}`` alone costs a fifth of a small ufunc call); 0, in full."""
    prim, params, ins, out = eqn
    return len(ins) if len(ins) in (1, 2) and not params and type(out) is int else 0


def _replay_impl(eqns: tuple[list[Any], ...], env: list[Any]) -> None:
    impls, _, params_, ins_, outs, deads, kinds = eqns
    for impl, params, ins, out, dead, kind in zip(impls, params_, ins_, outs, deads, kinds):
        if kind == 2:
            env[out] = impl(env[ins[0]], env[ins[1]])
        elif kind == 1:
            env[out] = impl(env[ins[0]])
        else:
            _store(env, out, impl(*[env[i] for i in ins], **params))
        for s in dead:
            env[s] = None


def _replay_bind(eqns: tuple[list[Any], ...], env: list[Any]) -> None:
    _, prims, params_, ins_, outs, deads, _ = eqns
    for prim, params, ins, out, dead in zip(prims, params_, ins_, outs, deads):
        _store(env, out, bind(prim, *[env[i] for i in ins], **params))
        for s in dead:
            env[s] = None


def _store(env: list[Any], out: int | tuple[int, ...], value: Any) -> None:
    """Put an equation's result (a tuple of results, for a tuple of slots) in its slots."""
    if type(out) is int:
        env[out] = value
    else:
        for s, v in zip(out, value):  # type: ignore[arg-type]
            env[s] = v


def _record(
    fun: Callable[..., Any], leaves: list[Any], tree: PyTreeDef, call: Callable[..., Any]
) -> tuple[Any, _Program | None]:
    """Run ``fun`` once under a recording trace: its outputs, and the program (``None`` when
    the recording cannot be reused)."""
    with new_main(JitTrace, "jit") as main:
        tracers = [main.new_input(x) for x in leaves]
        out = call(fun, tree_unflatten(tree, tracers))
        out_leaves, out_tree = tree_flatten(out)
        input_ids = {id(x) for x in leaves}
        const_ids = {id(c) for c in main.consts.values() if isinstance(c, np.ndarray)}
        values = []
        outputs: list[tuple[str, Any]] = []
        for y in out_leaves:
            if type(y) is JitTracer and y._main is main:
                values.append(_result(y.primal, input_ids, const_ids))
                outputs.append(("slot", y.slot))
            elif isinstance(y, Tracer):  # a tracer of an enclosing transform, closed over
                main.foreign = True
                values.append(y)
            else:  # kept as a copy: the caller may change the array it receives
                values.append(_transform_io.as_output(y))
                outputs.append(("const", np.array(values[-1], copy=True)))
    result = tree_unflatten(out_tree, values)
    program = None if main.foreign else _Program(main, len(leaves), outputs, out_tree)
    # What the trace holds is in the program now; a closure kept by a primitive's parameters
    # may still reach the trace through a tracer, and must not keep the example values alive.
    main.eqns, main.consts, main.kept, main.const_slots = [], {}, [], {}
    return result, program


def _as_input(x: Any, where: Callable[[], str]) -> Any:
    if isinstance(x, (np.ndarray, Tracer)):
        return x
    if isinstance(x, (bool, int, float, complex, np.generic)):
        return np.asarray(x)
    raise TypeError(
        f"jit: {where()} is a {type(x).__name__}, which is not an array or a number; traced "
        "arguments must be pytrees of arrays or numbers. Mark it static (static_argnums or "
        "static_argnames) if it configures the function, or close over it"
    )


def _static_positions(static_argnums: int | Iterable[int]) -> tuple[int, ...]:
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    if not all(isinstance(i, int) for i in nums):
        raise TypeError(f"jit: static_argnums must be an int or ints, got {static_argnums!r}")
    return nums


def _static_names(static_argnames: str | Iterable[str]) -> frozenset[str]:
    names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"jit: static_argnames must be a str or strs, got {static_argnames!r}")
    return frozenset(names)


def _both_ways(
    fun: Callable[..., Any], nums: tuple[int, ...], names: frozenset[str]
) -> tuple[tuple[int, ...], frozenset[str]]:
    """Static positions and names completed from ``fun``'s signature, as JAX does: a static
    argument stays static whether it is passed by position or by name."""
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):  # no signature to read (some builtins)
        return nums, names
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not any(p.kind is p.VAR_POSITIONAL for p in params):
        # a fixed number of positions: a negative one counts from the signature's end, not
        # from the end of a call that passes some arguments by name
        nums = tuple(i + len(positional) if i < 0 else i for i in nums)
    more_names = {positional[i] for i in nums if 0 <= i < len(positional)}
    more_nums = {positional.index(n) for n in names if n in positional}
    return tuple(sorted(set(nums) | more_nums)), names | more_names


def _static_key(value: Any, label: str) -> Hashable:
    """``value`` as part of a recording's key: with its type (1 and 1.0 record apart), floats
    by their bits (-0.0 is not 0.0, and NaN finds itself), tuples entry by entry."""
    if type(value) is float:
        return (float, value.hex())
    if type(value) is complex:
        return (complex, value.real.hex(), value.imag.hex())
    if isinstance(value, np.generic):
        return (type(value), value.tobytes())
    if isinstance(value, tuple):
        return (type(value), tuple(_static_key(v, label) for v in value))
    return (type(value), _hashable(value, label))


def _hashable(value: Any, label: str) -> Hashable:
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"jit: the static argument {label} must be hashable (it is part of the key the "
            f"recordings are kept under), got a {type(value).__name__}; pass a tuple instead "
            "of a list, or make it a traced argument"
        ) from None
    return value  # type: ignore[no-any-return]


def jit(
    fun: Callable[..., Any],
    *,
    static_argnums: int | Iterable[int] = (),
    static_argnames: str | Iterable[str] = (),
) -> Callable[..., Any]:
    """A function that records ``fun``'s primitives on its first call and replays them after.

    The first call with a new signature (tree structure, shapes and dtypes of the arguments,
    and the values of static arguments) runs ``fun`` under a recording trace and returns its
    results. Later calls with the same signature run the recorded NumPy calls directly, with no
    Python tracing: ``jit(grad(f))`` replays the forward and backward passes as one program.

    Like ``jax.jit``, the recording is made once for every value of the arguments:

    - Python side effects of ``fun`` (printing, appending to a list) happen during recording
      only.
    - Arrays ``fun`` closes over are read when it is recorded; pass them as arguments if they
      change, or call ``clear_cache()`` on the jitted function.
    - Python control flow on a traced value (``if x > 0:``) and operations whose result shape
      depends on values (boolean masks, ``nonzero``) raise ``ConcretizationError``: use
      ``fjac.numpy.where``, or mark the argument static.
    - Numbers among the arguments are traced as 0-d arrays (float64, int64), as every fjac
      transform traces them.

    ``jit`` composes with the other transforms in both orders: ``jit(grad(f))`` records the
    gradient program; ``grad(jit(f))`` and ``vmap(jit(f))`` replay the recording through the
    outer transform, which sees each primitive as usual.

    Args:
        fun: a function of pytrees of arrays returning a pytree of arrays.
        static_argnums: positions of arguments that are not traced: passed to ``fun`` as
            they are and made part of the signature (they must be hashable).
        static_argnames: names of keyword arguments that are not traced, likewise. Other
            keyword arguments are traced like positional ones.

    Returns:
        A function with ``fun``'s arguments and results, and a ``clear_cache()`` method that
        forgets every recording.

    Raises:
        ConcretizationError: during a recording, ``fun`` needed a traced value.
        TypeError: an argument that is neither an array, a number nor static; a static
            argument that is not hashable; an output that is not an array or a number.

    Example:
        >>> import numpy as np, fjac, fjac.numpy as fnp
        >>> g = fjac.jit(fjac.grad(lambda x: fnp.sum(fnp.sin(x) * x)))
        >>> g(np.array([0.0, 1.0]))        # recorded
        array([0.        , 1.38177329])
        >>> g(np.array([2.0, 3.0]))        # replayed
        array([ 0.07700375, -2.82885748])
    """
    nums = _static_positions(static_argnums)
    names = _static_names(static_argnames)
    nums, names = _both_ways(fun, nums, names)
    fast: dict[tuple[Any, ...], _Program] = {}  # calls whose arguments are all ndarrays
    cache: dict[Hashable, _Program] = {}

    def record_or_replay(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call = _Call(args, kwargs, nums, names)
        raw, tree = tree_flatten((call.args, call.kwargs))
        leaves = [_as_input(x, functools.partial(call.label, i)) for i, x in enumerate(raw)]
        key = (call.static, tree, tuple((shape_of(x), dtype_of(x)) for x in leaves))
        program = cache.get(key)
        if program is not None:
            return program.run(leaves)
        result, program = _record(fun, leaves, tree, call.invoke)
        if program is not None:
            cache[key] = program
            if not kwargs and not call.static and all(type(a) is np.ndarray for a in args):
                fast[tuple((a.shape, a.dtype) for a in args)] = program
        return result

    @functools.wraps(fun)
    def jitted(*args: Any, **kwargs: Any) -> Any:
        if not kwargs:  # the common call, looked up without flattening
            key = tuple((a.shape, a.dtype) if type(a) is np.ndarray else None for a in args)
            program = fast.get(key)
            if program is not None:
                return program.run(list(args), plain=True)
        return record_or_replay(args, kwargs)

    def clear_cache() -> None:
        """Forget every recording: the next call of each signature records again."""
        fast.clear()
        cache.clear()

    jitted.clear_cache = clear_cache  # type: ignore[attr-defined]
    return jitted


class _Call:
    """One call's arguments, split into static ones (part of the key) and traced ones."""

    __slots__ = ("static_pos", "static", "args", "kwargs", "static_kwargs", "_all_args")

    def __init__(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], nums: tuple[int, ...],
        names: frozenset[str],
    ) -> None:
        n = len(args)
        self.static_pos = sorted({i % n for i in nums if -n <= i < n})
        self.static_kwargs = {k: v for k, v in kwargs.items() if k in names}
        self.static = tuple(
            (i, _static_key(args[i], f"at position {i}")) for i in self.static_pos
        ) + tuple((k, _static_key(v, repr(k))) for k, v in sorted(self.static_kwargs.items()))
        self.args = tuple(a for i, a in enumerate(args) if i not in self.static_pos)
        self.kwargs = {k: v for k, v in kwargs.items() if k not in names}
        self._all_args = args

    def invoke(self, fun: Callable[..., Any], traced: Any) -> Any:
        """``fun`` called with the traced arguments ``traced`` and the static ones."""
        args, kwargs = traced
        full = list(args)
        for i in self.static_pos:
            full.insert(i, self._all_args[i])
        return fun(*full, **kwargs, **self.static_kwargs)

    def label(self, i: int) -> str:
        """A reader's name for traced leaf ``i``: ``argument 1 at ['w']``."""
        path = tree_flatten_with_path((self.args, self.kwargs))[0][i][0]
        rest = keystr(path[2:])
        where = path[1]
        if isinstance(where, SequenceKey):
            traced = [p for p in range(len(self._all_args)) if p not in self.static_pos]
            name = f"argument {traced[where.idx]}"
        else:
            name = f"keyword argument {getattr(where, 'key', where)!r}"
        return name + (f" at {rest}" if rest else "")
