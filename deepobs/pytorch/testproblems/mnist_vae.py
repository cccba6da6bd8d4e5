"""``mnist_vae``: a convolutional variational autoencoder on MNIST, a DeepOBS problem (§2.5).

Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
"""

from __future__ import annotations

from deepobs.pytorch.testproblems._registry import register_testproblem
from deepobs.pytorch.testproblems._vae import VAEProblem


@register_testproblem(
    dataset="mnist",
    batch_size=64,
    num_epochs=50,
    has_accuracy=False,
    batch_independent_eval=False,
)
class mnist_vae(VAEProblem):
    """Convolutional VAE (latent size 8) on MNIST; loss = squared error + KL, no accuracy.

    The latent noise is drawn in every phase, so evaluation losses are stochastic. No
    regularisation. Batch size 64 and 50 epochs as in DeepOBS (benchmark problem P2).
    """
