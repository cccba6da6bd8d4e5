"""A decoder-only, pre-norm character transformer, its data windows and parameter groups.

Model (GPT-2's layout, Radford et al. 2019, without biases and without dropout): token
embedding ``V x d`` plus a learned position embedding ``context x d``; ``L`` blocks
``x + attn(LN(x))`` then ``x + MLP(LN(x))``, where attention is causal multi-head
self-attention (one fused ``d -> 3d`` projection, ``torch.nn.functional.
scaled_dot_product_attention``, output projection ``d -> d``) and the MLP is
``d -> 4d -> d`` with GELU; a final LayerNorm; logits with the token embedding as the output
matrix (weight tying). Linear layers have no bias, LayerNorms have a gain and no bias.
Trainable parameters: ``V*d + context*d + L*(12*d*d + 2*d) + d`` (see
:func:`char_transformer_num_parameters`).

Initialisation as GPT-2: every linear and embedding weight ``N(0, 0.02^2)``, the two
projections that write into the residual stream ``N(0, (0.02 / sqrt(2L))^2)``, gains 1.

Data: the character streams of :class:`~deepobs.pytorch.datasets._text.CharStreamDataSet`
(same files, splits and vocabulary as ``textgen``), cut into windows of ``context``
characters instead of 50; the model carries no state, so the training windows are shuffled.

Parameter groups: :func:`param_groups_hint` sorts a model's parameters into matrices,
embeddings, norms and biases and tags each parameter with its group, so an optimizer can
treat them differently even when it only receives ``model.parameters()`` (as from
``StandardRunner``); :func:`split_param_groups` builds torch parameter groups from the tags.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from deepobs.pytorch.datasets._text import stream_windows
from deepobs.pytorch.testproblems.testproblem import UnregularizedTestproblem, reduce_losses

#: Default size: 6 layers of width 384 with 6 heads, context 256 (nanoGPT's character model).
NUM_LAYERS, WIDTH, NUM_HEADS, CONTEXT_LENGTH = 6, 384, 6, 256
INIT_STD = 0.02
#: Names of the parameter groups of :func:`param_groups_hint`, in order.
PARAM_GROUPS = ("matrices", "embeddings", "norms", "biases")
#: Attribute that :func:`param_groups_hint` sets on every parameter.
PARAM_GROUP_ATTR = "deepobs_param_group"
_NORMS = (nn.LayerNorm, nn.GroupNorm, nn.modules.batchnorm._NormBase)


def char_transformer_num_parameters(
    vocab_size: int,
    num_layers: int = NUM_LAYERS,
    width: int = WIDTH,
    context_length: int = CONTEXT_LENGTH,
) -> int:
    """Trainable parameters of :class:`CharTransformer` (the output matrix is tied)."""
    per_block = 3 * width * width + width * width + 8 * width * width + 2 * width
    return vocab_size * width + context_length * width + num_layers * per_block + width


class CausalSelfAttention(nn.Module):
    """Causal multi-head self-attention without biases.

    Args:
        width: Model width ``d`` (divisible by ``num_heads``).
        num_heads: Number of heads.
    """

    def __init__(self, width: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(width, 3 * width, bias=False)
        self.proj = nn.Linear(width, width, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, T, d] -> [B, T, d]``; position ``t`` attends to positions ``<= t``."""
        b, t, d = x.shape
        qkv = self.qkv(x).view(b, t, 3, self.num_heads, d // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each [B, heads, T, d / heads]
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    """Pre-norm transformer block ``x + attn(LN(x))``, then ``x + MLP(LN(x))``."""

    def __init__(self, width: int, num_heads: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(width, bias=False)
        self.attn = CausalSelfAttention(width, num_heads)
        self.ln2 = nn.LayerNorm(width, bias=False)
        self.fc = nn.Linear(width, 4 * width, bias=False)
        self.gelu = nn.GELU()
        self.proj = nn.Linear(4 * width, width, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, T, d] -> [B, T, d]``."""
        x = x + self.attn(self.ln1(x))
        return x + self.proj(self.gelu(self.fc(self.ln2(x))))


class CharTransformer(nn.Module):
    """Decoder-only character language model; see the module docstring.

    Args:
        vocab_size: Number of characters ``V``.
        num_layers: Number of blocks ``L``.
        width: Model width ``d``.
        num_heads: Attention heads (``width`` must be divisible by it).
        context_length: Longest input (size of the position embedding).

    Raises:
        ValueError: for non-positive sizes or a width not divisible by ``num_heads``.
    """

    def __init__(
        self,
        vocab_size: int,
        num_layers: int = NUM_LAYERS,
        width: int = WIDTH,
        num_heads: int = NUM_HEADS,
        context_length: int = CONTEXT_LENGTH,
    ) -> None:
        super().__init__()
        sizes = {
            "vocab_size": vocab_size,
            "num_layers": num_layers,
            "width": width,
            "num_heads": num_heads,
            "context_length": context_length,
        }
        for name, value in sizes.items():
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        if width % num_heads:
            raise ValueError(
                f"width={width} is not divisible by num_heads={num_heads}; choose a width "
                f"that is a multiple of the number of heads (e.g. {num_heads * 64})."
            )
        self.context_length = context_length
        self.token_embedding = nn.Embedding(vocab_size, width)
        self.position_embedding = nn.Embedding(context_length, width)
        self.blocks = nn.ModuleList(Block(width, num_heads) for _ in range(num_layers))
        self.ln_f = nn.LayerNorm(width, bias=False)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """GPT-2's initialisation (see the module docstring)."""
        residual_std = INIT_STD / math.sqrt(2 * len(self.blocks))
        for name, p in self.named_parameters():
            if p.dim() == 1:
                nn.init.ones_(p)  # LayerNorm gains
            elif name.endswith("proj.weight"):  # attention and MLP output projections
                nn.init.normal_(p, 0.0, residual_std)
            else:
                nn.init.normal_(p, 0.0, INIT_STD)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, T, V]`` of the next character after each of the ids ``[B, T]``."""
        t = ids.shape[1]
        if t > self.context_length:
            raise ValueError(
                f"Input of {t} characters is longer than the context length "
                f"{self.context_length}; pass at most {self.context_length}."
            )
        positions = torch.arange(t, device=ids.device)
        x = self.token_embedding(ids) + self.position_embedding(positions)
        for block in self.blocks:
            x = block(x)
        return F.linear(self.ln_f(x), self.token_embedding.weight)  # tied output matrix


class ContextWindows:
    """Mixin for a :class:`~deepobs.pytorch.datasets._text.CharStreamDataSet`: longer windows.

    ``class PTBWindows(ContextWindows, datasets.ptb)`` reads PTB as ``ptb`` does (same files,
    splits, vocabulary and stream layout) but cuts windows of ``seq_len`` characters and
    shuffles the training windows anew in every epoch. ``train_eval`` stays the first
    training windows in stream order.

    Args:
        batch_size: Windows per batch.
        seq_len: Characters per window.
        **kwargs: ``data_dir``, ``seed`` and the base data set's arguments.
    """

    def __init__(self, batch_size: int, *, seq_len: int = CONTEXT_LENGTH, **kwargs) -> None:
        if isinstance(seq_len, bool) or not isinstance(seq_len, int) or seq_len <= 0:
            raise ValueError(f"seq_len must be a positive integer, got {seq_len!r}.")
        self.seq_len = seq_len
        super().__init__(batch_size, **kwargs)

    def _windows(self, ids, split: str) -> list[torch.Tensor]:
        needed = self._batch_size * self.seq_len + 1
        if len(ids) < needed:
            raise ValueError(
                f"The {split} split of {self.name} has {len(ids)} characters, too few for one "
                f"batch at batch_size={self._batch_size} with {self.seq_len}-character "
                f"windows ({needed} needed). Use batch_size <= "
                f"{max((len(ids) - 1) // self.seq_len, 0)}."
            )
        return list(stream_windows(ids, self._batch_size, self.seq_len))

    def _make_train_and_valid_dataloader(self):
        _, valid = super()._make_train_and_valid_dataloader()
        return self._tensor_loader(self._train_windows, shuffle=True), valid


def param_groups_hint(model: nn.Module) -> dict[str, list[nn.Parameter]]:
    """Sort the trainable parameters of ``model`` into groups, and tag each with its group.

    Groups (:data:`PARAM_GROUPS`): ``"embeddings"`` (weights of ``nn.Embedding``, including a
    tied output matrix), ``"norms"`` (parameters of LayerNorm, GroupNorm and batch norm),
    ``"biases"`` (other parameters named ``bias``) and ``"matrices"`` (all others: the
    weights of linear and conv layers, which Muon-style optimizers orthogonalise and AdamW
    usually decays). Every group is present, possibly empty. Each parameter gets the
    attribute ``deepobs_param_group`` (:data:`PARAM_GROUP_ATTR`) for
    :func:`split_param_groups`.
    """
    groups: dict[str, list[nn.Parameter]] = {name: [] for name in PARAM_GROUPS}
    seen: set[int] = set()
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if not p.requires_grad or id(p) in seen:
                continue
            seen.add(id(p))
            if isinstance(module, nn.Embedding):
                group = "embeddings"
            elif isinstance(module, _NORMS):
                group = "norms"
            elif name == "bias":
                group = "biases"
            else:
                group = "matrices"
            setattr(p, PARAM_GROUP_ATTR, group)
            groups[group].append(p)
    return groups


def split_param_groups(
    params: Iterable[nn.Parameter],
    options: Mapping[str, Mapping[str, object]],
    default: Mapping[str, object] | None = None,
) -> list[dict]:
    """Torch parameter groups from tagged parameters (see :func:`param_groups_hint`).

    Args:
        params: Parameters tagged by :func:`param_groups_hint` (e.g. ``model.parameters()``
            as a runner passes them to the optimizer).
        options: Per group name, the optimizer settings of that group, e.g.
            ``{"matrices": {"weight_decay": 0.1}}``.
        default: Settings of the parameters of groups not in ``options``.

    Returns:
        A list of ``{"params": [...], **settings}``, one per non-empty group, for a torch
        optimizer's constructor.

    Raises:
        ValueError: for an unknown group name, or a parameter without a tag.
    """
    unknown = sorted(set(options) - set(PARAM_GROUPS))
    if unknown:
        raise ValueError(f"Unknown parameter groups {unknown}; valid: {', '.join(PARAM_GROUPS)}.")
    by_group: dict[str, list[nn.Parameter]] = {name: [] for name in PARAM_GROUPS}
    for p in params:
        group = getattr(p, PARAM_GROUP_ATTR, None)
        if group is None:
            raise ValueError(
                f"A parameter of shape {tuple(p.shape)} has no group tag; call "
                "param_groups_hint(model) (or problem.param_groups_hint()) after set_up()."
            )
        by_group[group].append(p)
    return [
        {"params": ps, **dict(options.get(name, default or {}))}
        for name, ps in by_group.items()
        if ps
    ]


class CharTransformerProblem(UnregularizedTestproblem):
    """Shared set-up of the character-transformer problems; subclasses implement _make_data.

    The loss of a window is the mean cross-entropy of its ``context_length`` next-character
    predictions (``reduction="none"`` gives one loss per window, ``[batch_size]``); the
    accuracy is the fraction of correctly predicted next characters. No regularisation: an
    L2 term, if wanted, is the optimizer's weight decay (see :meth:`param_groups_hint`).

    Args:
        batch_size: Windows per batch; ``None`` takes the problem's default.
        l2_reg: Not used (a value other than 0 is ignored with a warning).
        num_layers: Number of blocks (default 6; 2 for a CPU-sized model).
        width: Model width (default 384; e.g. 128 on a CPU).
        num_heads: Attention heads (default 6; ``width`` must be divisible by it).
        context_length: Characters per window (default 256).
        **kwargs: ``device``, ``data_dir`` (see :class:`TestProblem`).
    """

    def __init__(
        self,
        batch_size: int | None = None,
        l2_reg: float | None = None,
        *,
        num_layers: int = NUM_LAYERS,
        width: int = WIDTH,
        num_heads: int = NUM_HEADS,
        context_length: int = CONTEXT_LENGTH,
        **kwargs,
    ) -> None:
        super().__init__(batch_size, l2_reg, **kwargs)
        self.architecture = {
            "num_layers": num_layers,
            "width": width,
            "num_heads": num_heads,
            "context_length": context_length,
        }

    def _make_data(self):
        raise NotImplementedError(f"{type(self).__name__} must implement _make_data().")

    def set_up(self) -> None:
        """Build the data set, the model (drawn on the CPU) and the loss."""
        self.data = self._make_data()
        init_device = "meta" if self._device.type == "meta" else "cpu"
        with torch.device(init_device):
            self.model = CharTransformer(self.data.vocab_size, **self.architecture)
        self.loss_function = nn.CrossEntropyLoss
        self._finish_set_up()
        param_groups_hint(self.model)

    def param_groups_hint(self) -> dict[str, list[nn.Parameter]]:
        """The model's parameters by group: ``matrices``, ``embeddings``, ``norms``, ``biases``.

        Here: the attention and MLP weights (4 per block) are ``matrices``; the token
        embedding (also the output matrix) and the position embedding are ``embeddings``;
        the LayerNorm gains are ``norms``; there are no biases. The parameters are tagged
        (done in :meth:`set_up` already), so optimizers that only see
        ``model.parameters()`` can use :func:`split_param_groups`. With ``StandardRunner``
        (which calls ``optimizer_class(model.parameters(), **hyperparams)``), decay only the
        matrices::

            from deepobs.pytorch.testproblems._transformer import split_param_groups

            class AdamWDecayMatrices(torch.optim.AdamW):
                def __init__(self, params, lr, weight_decay):
                    groups = split_param_groups(
                        params, {"matrices": {"weight_decay": weight_decay}},
                        default={"weight_decay": 0.0})
                    super().__init__(groups, lr=lr)

            runner = StandardRunner(AdamWDecayMatrices, {"lr": {"type": float},
                                                         "weight_decay": {"type": float}})
        """
        return param_groups_hint(self.model)

    def _loss_and_accuracy(self, batch, reduction):
        inputs, targets = batch  # [batch, T] ids each
        logits = self.model(inputs)  # [batch, T, V]
        losses = self.loss_function(reduction="none")(logits.flatten(0, 1), targets.flatten())
        losses = losses.view_as(targets).mean(dim=1)  # per window: mean over characters
        accuracy = (logits.argmax(dim=-1) == targets).float().mean()
        return reduce_losses(losses, reduction), accuracy
