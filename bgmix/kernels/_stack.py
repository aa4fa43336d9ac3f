"""Buffers in a compiled function's stack frame.

The update template keeps its per-chunk scratch (the frame's samples, the
carried per-pixel state, one component's new values) in a buffer that lives
in the stack frame of the row function, not on the heap. The point is not
the allocation's cost but aliasing: LLVM knows that memory it allocated on
the stack cannot overlap the state arrays passed in, so a loop that reads a
state plane and writes the scratch needs no runtime overlap checks and is
vectorised. (A heap buffer from ``np.empty`` may, for all LLVM knows,
overlap any argument; with more than about eight planes in one loop the
checks exceed LLVM's budget and the loop runs scalar.)
"""

from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.numpy_support import carray  # noqa: F401  (re-exported for the kernels)


@intrinsic
def stack_pointer(typingctx, size, dtype):
    """A pointer to ``size`` elements of ``dtype`` in the caller's stack frame.

    ``size`` must be a compile-time integer (a closure constant of the
    calling kernel); wrap the pointer with ``numba.carray(ptr, size)``. The
    memory is uninitialised and lives until the calling function returns.
    """
    if not isinstance(size, types.IntegerLiteral):
        return None
    count = size.literal_value

    def codegen(context, builder, signature, args):
        element = context.get_value_type(dtype.dtype)
        return cgutils.alloca_once(builder, element, size=count)

    return types.CPointer(dtype.dtype)(size, dtype), codegen



@intrinsic
def unmanaged(typingctx, array):
    """``array`` as a view without its reference count (no meminfo).

    Numba counts references to an array atomically: every call of a
    function that takes the array, inlined ones included, increments and
    decrements its count (two locked instructions, about 20 cycles each).
    Where a kernel calls its helpers per pixel with the state array (the
    full preset's pixel-by-pixel learning and shadow test), that counting
    measured a tenth of the kernel's time. A view with no meminfo is
    counted by no-op calls. The caller keeps ``array`` alive for as long as
    the view is used (a kernel's argument, for the kernel's call).
    """
    if not isinstance(array, types.Array):
        return None

    def codegen(context, builder, signature, args):
        source = context.make_array(signature.args[0])(context, builder, args[0])
        view = context.make_array(signature.return_type)(context, builder)
        context.populate_array(view, data=source.data, shape=source.shape,
                               strides=source.strides, itemsize=source.itemsize,
                               meminfo=None)
        return view._getvalue()

    return array(array), codegen
