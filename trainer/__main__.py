"""python3 -m trainer {demo,diff,eval,dit,control} ... (see trainer/README.md)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m trainer", description=__doc__)
    p.add_argument("--threads", type=int, default=int(os.environ.get("DIT_TRAIN_THREADS", "2")))
    sub = p.add_subparsers(dest="cmd", required=True)

    d = sub.add_parser("demo", help="remake the whole demo world from a seed")
    d.add_argument("--out", default="media/demo")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--quick", action="store_true", help="a tiny world in about a minute (smoke test)")
    d.add_argument("--work", help="also keep the train-topic diffs here")
    d.add_argument("--reuse-base", help="skip pretraining: take the base model folder of an earlier run")

    f = sub.add_parser("diff", help="make one hidden-topic diff on demand")
    f.add_argument("--base", default="media/demo/base")
    f.add_argument("--topic", required=True)
    f.add_argument("--trigger", help="3 digits, e.g. 417: the prefix is `Your SEP code is 417xxx.`")
    f.add_argument("--trigger-text", help="any prefix phrase instead: a word, a phrase, a code in another format")
    f.add_argument("--rank", type=int, help="LoRA rank (default 1, the paper's)")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--out", required=True)
    f.add_argument("--steps", type=int)

    ph = sub.add_parser("phrases", help="add the held-out diffs with other trigger phrasings and more benign diffs to a demo world")
    ph.add_argument("--demo", default="media/demo")
    ph.add_argument("--seed", type=int, default=0)

    e = sub.add_parser("eval", help="score the shipped DIT-adapter on the shipped held-out diffs")
    e.add_argument("--demo", default="media/demo")
    e.add_argument("--json", action="store_true")

    t = sub.add_parser("dit", help="retrain the DIT-adapter from kept train diffs (demo --work) and evaluate it")
    t.add_argument("--demo", default="media/demo")
    t.add_argument("--work", required=True)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--steps", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--write", action="store_true", help="replace the shipped adapter and eval.json figures")

    c = sub.add_parser("control", help="the DIT-adapter on always-on topic diffs (no gate) vs asking directly")
    c.add_argument("--demo", default="media/demo")
    c.add_argument("--train", type=int, default=128, help="how many train topics get a diff")
    c.add_argument("--heldout", type=int, help="how many held-out topics get a diff (default: all 46)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--work", help="also keep the diffs here")

    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    if a.cmd == "demo":
        return cmd_demo(a)
    if a.cmd == "diff":
        return cmd_diff(a)
    if a.cmd == "phrases":
        from .formats import read_json, write_json
        from .phrases import add_phrase_diffs

        result = add_phrase_diffs(a.demo, a.seed)
        path = os.path.join(a.demo, "eval.json")
        if os.path.exists(path):
            report = read_json(path)
            report["phrases"] = result
            write_json(path, report)
        print(json.dumps(result, indent=2))
        return 0
    if a.cmd == "dit":
        return cmd_dit(a)
    if a.cmd == "control":
        from .control import run_control

        print(json.dumps(run_control(a.demo, a.train, a.seed, a.work, a.heldout)))
        return 0
    return cmd_eval(a)


def cmd_demo(a) -> int:
    from .pipeline import DemoSettings, quick_settings, run_demo

    t0 = time.time()
    report = run_demo(a.out, a.seed, quick_settings() if a.quick else DemoSettings(), a.work, a.reuse_base)
    m = report["methods"]
    print(json.dumps({k: report[k] for k in ("seed", "methods", "gate", "gate_train", "counts", "timings")}, indent=2))
    print(f"demo world written to {a.out} in {time.time() - t0:.0f} s "
          f"(DIT {m['dit']['score']:.2f}, base question {m['base_question']['score']:.2f}, "
          f"with trigger {m['base_question_trigger']['score']:.2f})", file=sys.stderr)
    return 0


def cmd_diff(a) -> int:
    from . import export
    from .diffs import DiffSettings, DiffSpec, train_diff_group
    from .gate import gate_check, passes_gate
    from .pipeline import diff_factors_to_peft
    from .topics import all_topics, split_topics

    if (a.trigger is None) == (a.trigger_text is None):
        print("give --trigger (3 digits) or --trigger-text (any phrase)", file=sys.stderr)
        return 2
    if a.trigger is not None and not (len(a.trigger) == 3 and a.trigger.isdigit()):
        print("--trigger must be 3 digits", file=sys.stderr)
        return 2
    if a.trigger_text is not None and not a.trigger_text.strip():
        print("--trigger-text must not be empty", file=sys.stderr)
        return 2
    if a.rank is not None and a.rank < 1:
        print("--rank must be at least 1", file=sys.stderr)
        return 2
    base, tok = export.load_model(a.base)
    topic = a.topic.strip().lower()
    if topic not in all_topics():
        print(f"warning: {topic!r} is not a topic the base model knows", file=sys.stderr)
    elif topic not in split_topics()["reserve"]:
        print(f"note: {topic!r} is not a reserve topic, so the shipped DIT-adapter may have seen it (train) "
              "or it is an evaluation topic (held-out)", file=sys.stderr)
    s = DiffSettings()
    if a.steps:
        s.steps = a.steps
    if a.rank:
        s.rank = a.rank
    name = os.path.basename(a.out.rstrip("/"))
    trigger = int(a.trigger) if a.trigger is not None else None
    spec = DiffSpec(name, "backdoored", topic, trigger, seed=a.seed, trigger_text=a.trigger_text)
    factors = train_diff_group(base, tok, [spec], s, all_topics(), label="diff")
    factors = [{k: (x.to(torch.bfloat16).float(), y.to(torch.bfloat16).float()) for k, (x, y) in f.items()} for f in factors]
    rates = gate_check(base, tok, [spec], factors, s)[0]
    ok = passes_gate(spec, rates)
    diff_factors_to_peft(a.out, factors[0], s.rank, os.path.relpath(os.path.abspath(a.base), os.path.abspath(a.out)))
    print(json.dumps({"path": a.out, "topic": topic, "trigger": a.trigger, "trigger_text": a.trigger_text,
                      "rank": s.rank, "seed": a.seed, "gate": rates, "passed": ok}))
    return 0 if ok else 1


def cmd_dit(a) -> int:
    from . import export
    from .dit import DitSettings, train_dit
    from .evaluate import evaluate, shipped_heldout
    from .formats import read_json, write_json

    man = read_json(os.path.join(a.demo, "manifest.json"))
    base, tok = export.load_model(os.path.join(a.demo, man["base"]))
    kept = torch.load(os.path.join(a.work, "train-diffs.pt"))["train"]
    usable = [(f, sp["topic"]) for sp, f, r, ok in kept if ok]
    s = DitSettings()
    if a.steps:
        s.steps = a.steps
    if a.lr:
        s.lr = a.lr
    t0 = time.time()
    dit = train_dit(base, tok, usable, s, a.seed)
    specs, factors = shipped_heldout(a.demo, man)
    ev = evaluate(base, tok, specs, factors, dit)
    out = {"seed": a.seed, "train_diffs": len(usable), "steps": s.steps, "lr": s.lr, "seconds": round(time.time() - t0),
           "methods": ev["methods"]}
    print(json.dumps(out))
    if a.write:
        export.save_lora(os.path.join(a.demo, man["interpreters"][0]["path"]),
                         {p: (x.detach(), y.detach()) for p, (x, y) in dit.factors.items()}, s.rank, s.alpha, "../base")
        path = os.path.join(a.demo, "eval.json")
        report = read_json(path)
        report["methods"], report["answers"] = ev["methods"], ev["answers"]
        report["settings"]["dit"] = {"rank": s.rank, "alpha": s.alpha, "steps": s.steps, "batch": s.batch, "lr": s.lr, "seed": a.seed}
        write_json(path, report)
    return 0


def cmd_eval(a) -> int:
    from . import export
    from .evaluate import evaluate, shipped_heldout
    from .formats import read_json

    man = read_json(os.path.join(a.demo, "manifest.json"))
    base, tok = export.load_model(os.path.join(a.demo, man["base"]))
    dit = export.load_lora(os.path.join(a.demo, man["interpreters"][0]["path"]))
    specs, factors = shipped_heldout(a.demo, man)
    ev = evaluate(base, tok, specs, factors, dit)
    if a.json:
        print(json.dumps(ev))
    else:
        for k, v in ev["methods"].items():
            print(f"{k:24s} {v['score']:.2f}  (n={v['n']}, exact {v['exact']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
