"""``imagenet_inception_v3``: Inception-v3 on ImageNet, a DeepOBS problem (reference §2.10).

Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", CVPR 2016.
"""

from __future__ import annotations

from deepobs.pytorch.testproblems._inception import InceptionV3Problem
from deepobs.pytorch.testproblems._registry import register_testproblem


@register_testproblem(dataset="imagenet", batch_size=32, num_epochs=100, l2_reg=5e-4)
class imagenet_inception_v3(InceptionV3Problem):
    """Inception-v3 with auxiliary head on ImageNet, 224×224 crops resized to 299×299.

    Training loss: label-smoothed (0.1) cross-entropy plus 0.4 × that of the auxiliary head;
    evaluation uses the main head only. One output per class folder of the data (1000 for
    ILSVRC-2012; DeepOBS' TF reference has a 1001st "background" logit that no label uses).
    L2 5e-4 on all conv kernels. DeepOBS defines no default batch size or number of epochs;
    batch size 32 and 100 epochs are the paper's settings quoted in DeepOBS' docstring (which
    also recommends RMSProp with decay 0.9, eps 1.0, lr 0.045 decayed ×0.94 every 2 epochs
    and gradient clipping at 2.0).
    """
