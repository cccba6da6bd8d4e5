"""The convolutional VAE of ``mnist_vae`` and ``fmnist_vae`` (reference §2.5).

Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014. Latent size 8.

* Encoder (1×28×28 in [0, 1]): three 4×4 convs with 64 filters, strides 2, 2, 1, TF ``SAME``
  padding (28 → 14 → 7 → 7; the last pads 1 before and 2 after), each followed by
  leaky ReLU ``max(x, 0.3 x)`` and dropout 0.2; two dense heads of size 8 on the flattened
  3136 features: the mean ``mu`` and ``s = 0.5 · dense(h)``, a log standard deviation.
* ``z = mu + eps · exp(s)`` with ``eps ~ N(0, I)`` drawn in **every** phase, so evaluation
  losses are stochastic, as in DeepOBS.
* Decoder: dense 8 → 24 → 49 (leaky ReLU) → 1×7×7 → three 4×4 transposed convs with 64
  filters, strides 2, 1, 1 (ReLU; dropout 0.2 after the first two only) → dense 12544 → 784,
  sigmoid.
* TF ``SAME`` transposed convs: stride 2 is ``ConvTranspose2d(padding=1)``; stride 1 is
  ``ConvTranspose2d(padding=1)`` with its last row and column dropped (15 → 14).
* All weights Glorot uniform, biases 0 (TF defaults); no regularisation.
* Per-example loss: ``sum_784 (x_hat - x)^2 - 0.5 · sum_j (1 + 2 s_j - mu_j^2 - exp(2 s_j))``.
"""

from __future__ import annotations

import torch
from torch import nn

from deepobs.pytorch import datasets
from deepobs.pytorch.testproblems._layers import conv2d_same, glorot_uniform_
from deepobs.pytorch.testproblems._nets_mnist import MNIST_PIXELS, build_initialised
from deepobs.pytorch.testproblems.testproblem import (
    UnregularizedTestproblem,
    check_reduction,
    reduce_losses,
)

LATENT_SIZE = 8
LEAKY_SLOPE = 0.3
DROPOUT = 0.2
FILTERS = 64


def conv_transpose_same_s1(c_in: int, c_out: int, kernel: int = 4) -> list[nn.Module]:
    """TF ``SAME`` stride-1 transposed conv with a 4×4 kernel: the output keeps the input size.

    PyTorch's ``padding=1`` gives one row and one column too many; a ``ZeroPad2d`` with
    negative padding cuts the last ones (standard layers only, no subclass).
    """
    return [
        nn.ConvTranspose2d(c_in, c_out, kernel, stride=1, padding=1),
        nn.ZeroPad2d((0, -1, 0, -1)),
    ]


def _encoder_block(c_in: int, stride: int, size: int) -> list[nn.Module]:
    conv = conv2d_same(c_in, FILTERS, 4, stride, size)
    return [*conv, nn.LeakyReLU(LEAKY_SLOPE), nn.Dropout(DROPOUT)]


class VAE(nn.Module):
    """Convolutional VAE for 1×28×28 images; ``forward`` returns ``(x_hat, mu, s)``."""

    def __init__(self, latent_size: int = LATENT_SIZE) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            *_encoder_block(1, 2, 28),  # [B, 64, 14, 14]
            *_encoder_block(FILTERS, 2, 14),  # [B, 64, 7, 7]
            *_encoder_block(FILTERS, 1, 7),  # pads (1, 2): [B, 64, 7, 7]
            nn.Flatten(),  # [B, 3136]
        )
        self.mean = nn.Linear(FILTERS * 7 * 7, latent_size)
        self.log_std = nn.Linear(FILTERS * 7 * 7, latent_size)
        self.decoder = nn.Sequential(
            nn.Linear(latent_size, 24),
            nn.LeakyReLU(LEAKY_SLOPE),
            nn.Linear(24, 49),
            nn.LeakyReLU(LEAKY_SLOPE),
            nn.Unflatten(1, (1, 7, 7)),
            nn.ConvTranspose2d(1, FILTERS, 4, stride=2, padding=1),  # [B, 64, 14, 14]
            nn.ReLU(),
            nn.Dropout(DROPOUT),
            *conv_transpose_same_s1(FILTERS, FILTERS),  # [B, 64, 14, 14]
            nn.ReLU(),
            nn.Dropout(DROPOUT),
            *conv_transpose_same_s1(FILTERS, FILTERS),  # [B, 64, 14, 14], no dropout
            nn.ReLU(),
            nn.Flatten(),  # [B, 12544]
            nn.Linear(FILTERS * 14 * 14, MNIST_PIXELS),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Images ``[B, 1, 28, 28]`` -> reconstruction ``[B, 784]``, ``mu`` and ``s`` ``[B, 8]``."""
        h = self.encoder(x)
        mu, log_std = self.mean(h), 0.5 * self.log_std(h)
        z = mu + torch.randn_like(mu) * torch.exp(log_std)  # sampled in every phase
        return self.decoder(z), mu, log_std


def build_vae(device: str | torch.device = "cpu") -> VAE:
    """Return a :class:`VAE` initialised as TF does (Glorot uniform, zero biases)."""
    return build_initialised(VAE, glorot_uniform_, 0.0, device)


class VAELoss(nn.Module):
    """Per-example squared reconstruction error (summed over pixels) plus KL divergence.

    Called as ``loss(outputs, images)`` with the model's ``outputs = (x_hat, mu, s)``, or
    as DeepOBS calls its VAE loss, ``loss(x_hat, images, mu, s)``.

    Args:
        reduction: ``"mean"`` (over the batch), ``"sum"`` or ``"none"`` (one per example).
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = check_reduction(reduction)

    def forward(
        self,
        outputs: torch.Tensor | tuple[torch.Tensor, ...],
        images: torch.Tensor,
        mean: torch.Tensor | None = None,
        std_dev: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Loss of the reconstruction (and latent ``mean``, log-std ``std_dev``) for ``images``."""
        if mean is None or std_dev is None:
            outputs, mean, std_dev = outputs
        sse = (outputs.flatten(1) - images.flatten(1)).square().sum(dim=1)
        kl = -0.5 * (1.0 + 2.0 * std_dev - mean.square() - torch.exp(2.0 * std_dev)).sum(dim=1)
        return reduce_losses(sse + kl, self.reduction)


class VAEProblem(UnregularizedTestproblem):
    """Base of ``mnist_vae`` and ``fmnist_vae``: the data set comes from the registry entry.

    Not batch-independent in evaluation: the latent noise is drawn in every phase.
    """

    batch_independent_eval = False

    def set_up(self) -> None:
        """Build the data set, the VAE and the loss."""
        make_data = getattr(datasets, self.spec.dataset)
        self.data = make_data(self._batch_size, data_dir=self._data_dir)
        # Weights are drawn on the CPU, so a seed gives the same network on any device.
        self.model = build_vae("meta" if self._device.type == "meta" else "cpu")
        self.loss_function = VAELoss
        self._finish_set_up()

    def _loss_and_accuracy(self, batch, reduction):
        images, _ = batch  # labels are not used
        loss = self.loss_function(reduction=reduction)(self.model(images), images)
        return loss, None
