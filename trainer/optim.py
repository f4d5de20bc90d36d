"""One optimiser step, as every training loop here takes it."""

import torch


def optimizer_step(opt, loss, losses=None, clip=None):
    """Backpropagates `loss` and steps `opt`, clipping the gradients of `clip` to norm 1 first when given.

    The loss is appended to `losses` when that is a list (the runs' loss curves)."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if clip is not None:
        torch.nn.utils.clip_grad_norm_(clip, 1.0)
    opt.step()
    if losses is not None:
        losses.append(loss.item())
