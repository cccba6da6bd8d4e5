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
from deepobs.pytorch.testproblems._layers import Conv2dSame, glorot_uniform_
from deepobs.pytorch.testproblems._nets_mnist import MNIST_PIXELS, build_initialised
from deepobs.pytorch.testproblems.testproblem import TestProblem

LATENT_SIZE = 8
LEAKY_SLOPE = 0.3
DROPOUT = 0.2
FILTERS = 64


class ConvTranspose2dSameS1(nn.ConvTranspose2d):
    """TF ``SAME`` stride-1 transposed conv with a 4×4 kernel: the output keeps the input size.

    PyTorch's ``padding=1`` gives one row and one column too many; the last ones are cut.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 4) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride=1, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C_in, H, W]`` -> ``[B, C_out, H, W]``."""
        return super().forward(x)[..., :-1, :-1]


def _encoder_block(c_in: int, stride: int) -> list[nn.Module]:
    conv = Conv2dSame(c_in, FILTERS, 4, stride)
    return [conv, nn.LeakyReLU(LEAKY_SLOPE), nn.Dropout(DROPOUT)]


class VAE(nn.Module):
    """Convolutional VAE for 1×28×28 images; ``forward`` returns ``(x_hat, mu, s)``."""

    def __init__(self, latent_size: int = LATENT_SIZE) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            *_encoder_block(1, 2),  # [B, 64, 14, 14]
            *_encoder_block(FILTERS, 2),  # [B, 64, 7, 7]
            *_encoder_block(FILTERS, 1),  # [B, 64, 7, 7]
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
            ConvTranspose2dSameS1(FILTERS, FILTERS),  # [B, 64, 14, 14]
            nn.ReLU(),
            nn.Dropout(DROPOUT),
            ConvTranspose2dSameS1(FILTERS, FILTERS),  # [B, 64, 14, 14], no dropout
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

    Args:
        reduction: ``"mean"`` (mean over the batch) or ``"none"`` (one loss per example).
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, outputs: tuple[torch.Tensor, ...], images: torch.Tensor) -> torch.Tensor:
        """Loss of ``outputs = (x_hat, mu, s)`` for the input ``images``."""
        x_hat, mu, log_std = outputs
        sse = (x_hat - images.flatten(1)).square().sum(dim=1)
        kl = -0.5 * (1.0 + 2.0 * log_std - mu.square() - torch.exp(2.0 * log_std)).sum(dim=1)
        losses = sse + kl
        return losses.mean() if self.reduction == "mean" else losses


class VAEProblem(TestProblem):
    """Base of ``mnist_vae`` and ``fmnist_vae``: the data set comes from the registry entry."""

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
