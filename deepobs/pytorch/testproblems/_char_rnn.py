"""DeepOBS' character-level LSTM (``tolstoi_char_rnn``, reference §2.11) and its stateful problem.

Embedding ``V x 128`` -> two stacked LSTMs of 128 units -> linear ``128 -> V`` per time step,
with dropout (keep probability 0.8, training only) on the input and output of each LSTM cell.
Initialisation reproduces TensorFlow's defaults. Trainable parameters:
``V*128 + 2*(4*128*128 + 4*128*128 + 4*128) + 128*V + V = 257*V + 263,168``
(284,499 at V = 83); the second LSTM bias ``bias_hh`` is frozen at zero as TF has one bias.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from deepobs.pytorch.testproblems._layers import glorot_uniform_
from deepobs.pytorch.testproblems.testproblem import UnregularizedTestproblem, reduce_losses

EMBEDDING_SIZE = 128
HIDDEN_SIZE = 128
NUM_LAYERS = 2
KEEP_PROB = 0.8
FORGET_BIAS = 1.0  # TF's LSTMCell adds 1.0 to the forget gate


def char_rnn_num_parameters(vocab_size: int) -> int:
    """Trainable parameters of :class:`CharRNN` for a vocabulary of ``vocab_size``."""
    lstm = sum(
        4 * HIDDEN_SIZE * (n_in + HIDDEN_SIZE) + 4 * HIDDEN_SIZE
        for n_in in [EMBEDDING_SIZE] + [HIDDEN_SIZE] * (NUM_LAYERS - 1)
    )
    return vocab_size * EMBEDDING_SIZE + lstm + HIDDEN_SIZE * vocab_size + vocab_size


class CharRNN(nn.Module):
    """Two-layer LSTM language model over characters.

    TF applies dropout to the output of the first cell and again to the input of the second:
    two independent keep-0.8 masks, which is one dropout with keep probability 0.8² — the
    ``dropout`` of the stacked ``nn.LSTM``.

    Args:
        vocab_size: Number of characters (input and output size).
        keep_prob: Keep probability of each dropout in training.
    """

    def __init__(self, vocab_size: int, keep_prob: float = KEEP_PROB) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, EMBEDDING_SIZE)
        self.input_dropout = nn.Dropout(1.0 - keep_prob)
        self.lstm = nn.LSTM(
            EMBEDDING_SIZE, HIDDEN_SIZE, NUM_LAYERS, batch_first=True, dropout=1.0 - keep_prob**2
        )
        self.output_dropout = nn.Dropout(1.0 - keep_prob)
        self.decoder = nn.Linear(HIDDEN_SIZE, vocab_size)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """TF's defaults: Glorot uniform with TF's fans; zero biases but the forget gate's."""
        glorot_uniform_(self.embedding.weight)
        h = HIDDEN_SIZE
        for layer in range(NUM_LAYERS):
            w_ih = getattr(self.lstm, f"weight_ih_l{layer}")
            # TF has one kernel [n_in + h, 4h] per layer: Glorot fans n_in + h and 4h.
            bound = math.sqrt(6.0 / (w_ih.shape[1] + h + 4 * h))
            nn.init.uniform_(w_ih, -bound, bound)
            nn.init.uniform_(getattr(self.lstm, f"weight_hh_l{layer}"), -bound, bound)
            bias_ih = getattr(self.lstm, f"bias_ih_l{layer}")
            bias_ih.zero_()
            bias_ih[h : 2 * h] = FORGET_BIAS  # gate order i, f, g, o
            getattr(self.lstm, f"bias_hh_l{layer}").zero_().requires_grad_(False)
        glorot_uniform_(self.decoder.weight)
        bound = math.sqrt(6.0 / (2 * self.decoder.out_features))  # TF 1-D variable default
        nn.init.uniform_(self.decoder.bias, -bound, bound)

    def forward(
        self, inputs: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Return logits ``[batch, time, V]`` and the final ``(h, c)``, each ``[2, batch, 128]``."""
        x = self.input_dropout(self.embedding(inputs))  # [batch, time] -> [batch, time, 128]
        out, state = self.lstm(x, state)  # [batch, time, 128]
        return self.decoder(self.output_dropout(out)), state


class CharRNNProblem(UnregularizedTestproblem):
    """Shared set-up of the char-RNN problems; subclasses implement :meth:`_make_data`.

    The LSTM state is carried from batch to batch within a phase (detached, so gradients are
    truncated to the 50 steps of a window) and reset on every ``*_init_op()``; a state made in
    an evaluation phase thus never reaches training. ``reduction="none"`` gives one loss per
    sequence (the mean over its 50 steps); the accuracy is over all predicted characters.

    Closures from :meth:`get_batch_loss_and_accuracy_func` may be called several times
    (line searches, LBFGS): every call starts from the state the batch came with, and the
    state carried on is the one from the latest call. Call a closure before drawing the
    next batch.

    Direct API: :meth:`loss_and_accuracy` also carries the state from call to call, so feed
    it consecutive batches of one loader; call :meth:`reset_state` at the start of each pass.
    The state is also reset when the model's train/eval mode or the batch size changes.
    """

    stateful = True  # batches must be neither split nor reordered
    batch_independent_eval = False  # the runner must not re-chunk the evaluation batches
    _state: tuple[torch.Tensor, torch.Tensor] | None = None  # incoming state of the next batch
    _state_training = False  # model.training when the state was made

    def _make_data(self):
        raise NotImplementedError(f"{type(self).__name__} must implement _make_data().")

    def set_up(self) -> None:
        """Build the data set, the model and the loss."""
        self.data = self._make_data()
        self.model = CharRNN(self.data.vocab_size)
        self.loss_function = nn.CrossEntropyLoss
        self.reset_state()
        self._finish_set_up()

    def reset_state(self) -> None:
        """Forget the recurrent state: the next batch starts from zeros."""
        self._state = None

    def _on_phase_start(self, phase: str) -> None:
        self.reset_state()

    def get_batch_loss_and_accuracy_func(
        self, reduction: str = "mean", add_regularization_if_available: bool = True
    ):
        """Draw the next batch; the closure evaluates it from the batch's incoming state."""
        closure = super().get_batch_loss_and_accuracy_func(
            reduction, add_regularization_if_available
        )
        incoming = self._state

        def stateful_closure():
            self._state = incoming  # every call of this batch starts from the same state
            return closure()

        return stateful_closure

    def _usable_state(self, batch_size: int):
        state = self._state
        if state is None or self._state_training != self.model.training:
            return None
        h = state[0]
        if h.shape[1] != batch_size or (h.is_inference() and not torch.is_inference_mode_enabled()):
            return None
        return state

    def _loss_and_accuracy(self, batch, reduction):
        inputs, targets = batch  # [batch, 50] ids each
        logits, state = self.model(inputs, self._usable_state(inputs.shape[0]))
        self._state = (state[0].detach(), state[1].detach())  # truncated BPTT
        self._state_training = self.model.training
        losses = self.loss_function(reduction="none")(logits.flatten(0, 1), targets.flatten())
        losses = losses.view_as(targets).mean(dim=1)  # per sequence: mean over time steps
        accuracy = (logits.argmax(dim=-1) == targets).float().mean()
        return reduce_losses(losses, reduction), accuracy
