"""`workbench train | evaluate | features`: the published spiking networks from the command line."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def register(subparsers) -> None:
    """Add ``train``, ``evaluate`` and ``features`` to the ``workbench`` parser."""
    from ..networks._published import RECIPES

    names = ", ".join(RECIPES)
    p = subparsers.add_parser(
        "train",
        help="train a published spiking network layer by layer",
        description=(
            "Train a published network (layer-wise STDP / R-STDP), then measure its test accuracy.\n"
            f"Networks: {names}.\n"
            "Writes OUT/checkpoint.npz (atomically, after every epoch), OUT/metrics.csv and "
            "OUT/summary.json.\nRe-run with --resume to continue an interrupted run; --resume with a\n"
            "larger last --epochs trains the finished top layer further (e.g. --epochs 2,4,200 after\n"
            "2,4,150 adds 50 decision epochs). A layer below one that has trained stays as it is.\n"
            "mozafari2018-caltech stops after the first epoch that leaves a training image silent\n"
            "at 1.05 x the firing threshold (its --epochs is then a maximum); a layer so stopped is\n"
            "finished."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("network", help="network name (see above)")
    p.add_argument("--dataset", help="data set (default: the paper's)")
    p.add_argument("--epochs", help="comma-separated epochs per trainable layer, as totals: with --resume, "
                   "epochs already done are not repeated (default: the recipe's)")
    p.add_argument("--limit", type=int, help="train on a class-balanced subset of this many images")
    p.add_argument("--test-limit", type=int, help="evaluate on a subset of this many test images")
    p.add_argument("--batch-size", type=int, default=32, help="images per STDP batch (default 32)")
    p.add_argument("--seed", type=int, default=0, help="seed of weights and sample order (default 0)")
    p.add_argument("--out", type=Path, help="output folder (default runs/NETWORK)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(handler=_train)

    e = subparsers.add_parser(
        "evaluate",
        help="test accuracy of a trained checkpoint",
        description="Test accuracy of a checkpoint. SVM read-outs are re-fitted on the training split (deterministic).",
    )
    e.add_argument("checkpoint", type=Path)
    e.add_argument("--limit", type=int, help="training images for the SVM read-out")
    e.add_argument("--test-limit", type=int, help="number of test images")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--probe", action="store_true",
                   help="also fit a linear (ridge) probe on the spikes the last layer receives, fitted on the "
                        "training split: how much a linear read-out gets from the same input")
    e.set_defaults(handler=_evaluate)

    f = subparsers.add_parser(
        "features",
        help="export each layer's spike representation to netCDF",
        description=(
            "Export every layer's first-spike latency (time steps; T = silent) and spike count per "
            "unit for a data set split, as an xarray Dataset in netCDF with stimulus labels."
        ),
    )
    f.add_argument("checkpoint", type=Path)
    f.add_argument("--dataset", required=True)
    f.add_argument("--split", default="test", choices=("train", "test"))
    f.add_argument("--limit", type=int)
    f.add_argument("--out", type=Path, required=True, help="output .nc file")
    f.set_defaults(handler=_features)


def _epochs(text: str | None, default: list[int]) -> list[int]:
    if text is None:
        return list(default)
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"--epochs must be comma-separated integers, got {text!r}") from None
    if len(values) != len(default) or min(values) < 0:
        raise ValueError(f"--epochs needs {len(default)} non-negative values (one per trainable layer), got {text!r}")
    return values


def evaluate_network(net, dataset: str, limit=None, test_limit=None, seed: int = 0, image_size=None,
                     train_data=None, test_data=None) -> dict:
    """Test accuracy of ``net`` with its read-out; returns a summary dict.  ``train_data`` /
    ``test_data`` are the splits' ``(images, labels)`` where the caller has loaded them."""
    import numpy as np

    from ..networks import SVMReadout, global_max_potentials
    from ..networks._data import load_split

    test_x, test_y = test_data if test_data is not None else load_split(dataset, "test", test_limit, image_size, seed)
    if net.meta.get("readout", "svm") == "decision":
        decision = net.layers[-1]
        tmap = net._run(net.encode(test_x), 0, len(net.layers) - 1)[0]
        pred = decision.predict(np.ascontiguousarray(tmap, dtype=np.int32), net.T)
        accuracy = float(np.mean(pred == test_y))
    else:
        train_x, train_y = train_data if train_data is not None else load_split(dataset, "train", limit, image_size, seed)
        readout = SVMReadout(seed=seed).fit(global_max_potentials(net, train_x), train_y)
        accuracy = readout.score(global_max_potentials(net, test_x), test_y)
    return {"test_accuracy": accuracy, "n_test": int(len(test_y)), "chance": float(1 / len(np.unique(test_y)))}


def _print_epoch(epoch: int, row: dict) -> None:
    # Each epoch's metrics as soon as it ends (a decision layer's epochs take minutes).
    print(", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)


def _train(args: argparse.Namespace) -> int:
    from ..networks import Network, TrainingLog
    from ..networks._data import load_split
    from ..networks._published import RECIPES, build

    if args.network not in RECIPES:
        raise ValueError(f"unknown network {args.network!r}; known: {', '.join(RECIPES)}")
    recipe = RECIPES[args.network]
    dataset = args.dataset or recipe.dataset
    out = args.out or Path("runs") / args.network
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "checkpoint.npz"
    if args.resume and ckpt.exists():
        net = Network.load(ckpt)
        print(f"resuming {ckpt} (epochs so far, layer by layer: {net.epochs_trained})")
    elif ckpt.exists() and not args.resume:
        raise ValueError(f"{ckpt} exists: pass --resume to continue it, or choose another --out")
    else:
        net = build(args.network, seed=args.seed)
    net.meta["dataset"] = dataset
    epochs = _epochs(args.epochs, recipe.epochs)
    t0 = time.perf_counter()
    train_x, train_y = load_split(dataset, "train", args.limit, recipe.image_size, args.seed)
    log = TrainingLog(out / "metrics.csv")
    trainable = [i for i, layer in enumerate(net.layers) if layer.trainable]
    for layer_index, n_epochs in zip(trainable, epochs):
        if net.epochs_to_train(layer_index, n_epochs) == 0:
            done = net.epochs_trained[layer_index]
            if done is not None and n_epochs > done:
                print(f"layer {layer_index} stays at {done} epochs: {net.why_frozen(layer_index, n_epochs)}",
                      file=sys.stderr)
            continue
        net.train_layer(layer_index, train_x, train_y, epochs=n_epochs, batch_size=args.batch_size, seed=args.seed,
                        checkpoint=ckpt, log=log, progress=not args.no_progress, callback=_print_epoch,
                        **recipe.train_options)
        if layer_index in net.stopped:
            print(f"layer {layer_index} stopped after epoch {net.epochs_trained[layer_index]}: "
                  f"{net.stopped[layer_index]}")
    train_seconds = time.perf_counter() - t0
    summary = evaluate_network(net, dataset, args.limit, args.test_limit, args.seed, recipe.image_size,
                               train_data=(train_x, train_y))
    summary.update({"network": args.network, "dataset": dataset, "n_train": int(len(train_y)),
                    "epochs": [net.epochs_trained[i] for i in trainable], "seed": args.seed,
                    "train_seconds": train_seconds, "epoch_seconds_all_runs": net.epoch_seconds,
                    "total_seconds": time.perf_counter() - t0, "reported_accuracy": recipe.reported_accuracy})
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"test accuracy {summary['test_accuracy']:.4f} on {summary['n_test']} images "
          f"(chance {summary['chance']:.2f}); wrote {out}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from ..networks import Network, linear_probe
    from ..networks._data import load_split
    from ..networks._published import RECIPES

    net = Network.load(args.checkpoint)
    recipe = RECIPES.get(net.meta.get("recipe", ""))
    dataset = net.meta.get("dataset") or (recipe.dataset if recipe else None)
    if dataset is None:
        raise ValueError(f"{args.checkpoint} does not say which data set it was trained on")
    image_size = recipe.image_size if recipe else None
    # Each split is read once, for the read-out and the probe (the training split is read
    # here only for the probe; an SVM read-out reads it itself otherwise).
    test = load_split(dataset, "test", args.test_limit, image_size, args.seed)
    train = load_split(dataset, "train", args.limit, image_size, args.seed) if args.probe else None
    summary = evaluate_network(net, dataset, args.limit, args.test_limit, args.seed, image_size,
                               train_data=train, test_data=test)
    if args.probe:
        summary.update({f"probe_{k}": v for k, v in linear_probe(net, *train, *test).items()})
    print(json.dumps(summary))
    return 0


def _features(args: argparse.Namespace) -> int:
    import numpy as np
    import xarray as xr

    from ..networks import Network, layer_representations
    from ..networks._data import load_split
    from ..networks._published import RECIPES

    net = Network.load(args.checkpoint)
    recipe = RECIPES.get(net.meta.get("recipe", ""))
    images, labels = load_split(args.dataset, args.split, args.limit, recipe.image_size if recipe else None)
    reps = layer_representations(net, images, progress=True)
    data_vars, coords = {}, {"stimulus": np.arange(len(labels)), "label": ("stimulus", labels)}
    for i, rep in enumerate(reps):
        B, C, H, W = rep["latency"].shape
        unit = f"unit_{i}"
        f_, y_, x_ = np.unravel_index(np.arange(C * H * W), (C, H, W))
        coords.update({f"{unit}_feature": (unit, f_), f"{unit}_y": (unit, y_), f"{unit}_x": (unit, x_)})
        data_vars[f"layer{i}_latency"] = (("stimulus", unit), rep["latency"].reshape(B, -1))
        data_vars[f"layer{i}_spike_count"] = (("stimulus", unit), rep["spike_count"].reshape(B, -1))
    ds = xr.Dataset(data_vars, coords=coords,
                    attrs={"network": net.name, "T": net.T, "dataset": args.dataset, "split": args.split,
                           "latency_units": "time steps; T means the unit stayed silent"})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(args.out.suffix + ".tmp")
    ds.to_netcdf(tmp, engine="h5netcdf")
    tmp.replace(args.out)
    print(f"wrote {args.out}: {len(reps)} layers, {len(labels)} stimuli")
    return 0
