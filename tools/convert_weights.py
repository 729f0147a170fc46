"""Convert official PyTorch (or PaddleGAN) weights into a ppir ``.pdparams``, checked strictly.

  python tools/convert_weights.py --src model_deblurring.pth --dst mprnet_deblurring.pdparams \\
      --arch MPRNet --task Deblurring
  python tools/convert_weights.py --src real_denoising.pth --dst mirnetv2_denoising.pdparams \\
      --arch MIRNetV2 --task real_denoising
  python tools/convert_weights.py --src small.pth --dst small.pdparams --arch MPRNet \\
      --opt n_feat=16 scale_unetfeats=8 --key params_ema

The network is built with ``ppir.archs.build_arch`` and must match the file exactly (every key,
every shape), so a converted file is known to be complete. torch is not needed. The output also
loads with plain ``paddle.load`` + ``net.set_state_dict``.
"""
import argparse
import ast
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppir.errors import ConfigError, PpirError, WeightsError  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", required=True, help="weights to convert (.pth, .pdparams, ppir checkpoint)")
    parser.add_argument("--dst", required=True, help="output .pdparams")
    parser.add_argument("--arch", required=True, help="architecture name, e.g. MPRNet, MIRNetV2, MIRNet")
    parser.add_argument("--task", help="task preset of the architecture, e.g. Deblurring, real_denoising")
    parser.add_argument("--opt", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                        help="extra architecture arguments, e.g. n_feat=16 (values are Python literals)")
    parser.add_argument("--key", help="entry of the file holding the weights (default: see ppir.weights)")
    return parser.parse_args(argv)


def arch_config(args):
    """``{'name': arch, 'task': task, **opts}`` from the command line."""
    cfg = {"name": args.arch}
    if args.task is not None:
        cfg["task"] = args.task
    for option in args.opt:
        key, equals, text = option.partition("=")
        if not equals or not key.strip():
            raise ConfigError(f"--opt {option!r} is not KEY=VALUE")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text  # a bare word, e.g. task=Deblurring
        cfg[key.strip()] = value
    return cfg


def build(cfg):
    from ppir.archs import build_arch

    try:
        return build_arch(cfg)
    except PpirError:  # the registry's own message: unknown name or option, with the choices
        raise
    except (TypeError, ValueError, AssertionError) as exc:  # a value the network (or Paddle) rejects
        raise ConfigError(f"cannot build {cfg['name']} with {cfg}: {exc}") from exc


def convert(args):
    from ppir.weights import load_weights, save_weights

    net = build(arch_config(args))
    report = load_weights(net, args.src, strict=True, key=args.key)
    try:
        save_weights(net, args.dst)
    except OSError as exc:
        raise WeightsError(f"{args.dst}: cannot write ({exc.strerror or exc})") from exc
    return len(report.loaded)


def main(argv=None):
    args = parse_args(argv)
    try:
        count = convert(args)
    except PpirError as err:
        if os.environ.get("PPIR_DEBUG") == "1":
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {args.dst}: {count} tensors of {args.arch} from {args.src}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
