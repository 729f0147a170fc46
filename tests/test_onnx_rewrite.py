"""ONNX rewrites that let ONNX Runtime fuse activations into convolutions: same outputs, new ops."""
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from ppir.apps.backends.onnx_rewrite import fuse_leaky_activations

RNG = np.random.default_rng(0)


def conv_model(activation_nodes, extra_initializers=(), extra_outputs=()):
    """x -> 3x3 conv (4 -> 4 channels) -> the given activation nodes -> y."""
    weight = numpy_helper.from_array(RNG.standard_normal((4, 4, 3, 3)).astype(np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), *activation_nodes]
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 4, 6, 5]) for name in ("y", *extra_outputs)]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 5])], outputs,
        [weight, *[numpy_helper.from_array(np.asarray(v, np.float32), n) for n, v in extra_initializers]],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def outputs_before_and_after(model):
    session_before = ort.InferenceSession(model.SerializeToString())
    x = RNG.standard_normal((1, 4, 6, 5)).astype(np.float32)
    before = session_before.run(None, {"x": x})
    rewritten = onnx.ModelProto()
    rewritten.CopyFrom(model)
    count = fuse_leaky_activations(rewritten)
    onnx.checker.check_model(rewritten)
    after = ort.InferenceSession(rewritten.SerializeToString()).run(None, {"x": x})
    return count, rewritten, before, after


def op_types(model):
    return [node.op_type for node in model.graph.node]


def test_scalar_prelu_becomes_leaky_relu_with_identical_output():
    model = conv_model([helper.make_node("PRelu", ["c", "slope"], ["y"])], [("slope", [[[0.25]]])])
    count, rewritten, before, after = outputs_before_and_after(model)
    assert count == 1 and op_types(rewritten) == ["Conv", "LeakyRelu"]
    assert rewritten.graph.node[1].attribute[0].f == np.float32(0.25)
    assert [i.name for i in rewritten.graph.initializer] == ["w"]  # the slope constant is gone
    np.testing.assert_array_equal(after[0], before[0])


def test_max_of_x_and_scaled_x_becomes_leaky_relu():
    nodes = [helper.make_node("Mul", ["c", "k"], ["m"]), helper.make_node("Max", ["c", "m"], ["y"])]
    count, rewritten, before, after = outputs_before_and_after(conv_model(nodes, [("k", 0.2)]))
    assert count == 1 and op_types(rewritten) == ["Conv", "LeakyRelu"]
    np.testing.assert_array_equal(after[0], before[0])


def test_paddle_scale_op_as_written_by_paddle2onnx_is_seen_through():
    """max(x, 0.2 * x) as paddle2onnx writes Paddle's scale op: Identity(Add(Mul(Identity(x), c), 0))."""
    nodes = [
        helper.make_node("Identity", ["c"], ["c_copy"]),
        helper.make_node("Mul", ["c_copy", "k"], ["m"]),
        helper.make_node("Add", ["m", "zero"], ["a"]),
        helper.make_node("Identity", ["a"], ["scaled"]),
        helper.make_node("Max", ["c", "scaled"], ["y"]),
    ]
    count, rewritten, before, after = outputs_before_and_after(conv_model(nodes, [("k", 0.2), ("zero", 0.0)]))
    assert count == 1 and op_types(rewritten) == ["Conv", "LeakyRelu"]  # the unread chain is removed
    np.testing.assert_array_equal(after[0], before[0])


def test_a_scaled_value_read_elsewhere_is_kept():
    nodes = [helper.make_node("Mul", ["c", "k"], ["m"]), helper.make_node("Max", ["c", "m"], ["y"])]
    count, rewritten, before, after = outputs_before_and_after(conv_model(nodes, [("k", 0.2)], extra_outputs=("m",)))
    assert count == 1 and op_types(rewritten) == ["Conv", "Mul", "LeakyRelu"]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


def test_what_is_not_a_leaky_relu_is_left_alone():
    per_channel = conv_model([helper.make_node("PRelu", ["c", "slope"], ["y"])], [("slope", [[[0.1]], [[0.2]], [[0.3]], [[0.4]]])])
    slope_above_one = conv_model(
        [helper.make_node("Mul", ["c", "k"], ["m"]), helper.make_node("Max", ["c", "m"], ["y"])], [("k", 1.5)])
    nonzero_bias = conv_model(
        [helper.make_node("Mul", ["c", "k"], ["m"]), helper.make_node("Add", ["m", "b"], ["a"]),
         helper.make_node("Max", ["c", "a"], ["y"])], [("k", 0.2), ("b", 0.1)])
    for model in (per_channel, slope_above_one, nonzero_bias):
        count, rewritten, before, after = outputs_before_and_after(model)
        assert count == 0 and op_types(rewritten) == op_types(model)
        np.testing.assert_array_equal(after[0], before[0])
