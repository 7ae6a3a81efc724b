"""Progress lines of a fit, as ``GaussianMixture`` prints them with
``verbose``."""

import contextvars
from contextlib import contextmanager

# The longest time between two progress lines: with costly experts (a
# boosting model refitted every EM iteration) a line every verbose_interval
# iterations could come minutes apart.
_PROGRESS_SECONDS = 10.0


# Where a start run in a worker (a thread or a process) keeps its lines: the
# starts' lines would interleave in threads, and a process's never reach the
# caller's stdout (a notebook's, a redirected one). The caller prints them,
# start by start, when the workers are done.
_BUFFER = contextvars.ContextVar("skmoe_progress_lines", default=None)


def _say(line):
    lines = _BUFFER.get()
    if lines is None:
        print(line)
    else:
        lines.append(line)


@contextmanager
def kept_lines():
    """Keep the progress lines printed within, in the list it yields."""
    lines = []
    token = _BUFFER.set(lines)
    try:
        yield lines
    finally:
        _BUFFER.reset(token)


class _ProgressMixin:
    """``verbose`` output of EM: each start, its iterations, its end."""

    def _print_start(self, index):
        if self.verbose:
            _say(f"Initialization {index}")

    def _print_iter(self, n_iter, ll, change, seconds):
        # The first iteration, then every verbose_interval iterations or
        # _PROGRESS_SECONDS, whichever comes first: with costly experts the
        # first line says early what an iteration costs.
        if not self.verbose:
            return
        last = 0.0 if n_iter == 1 else getattr(self, "_last_progress", 0.0)
        if (
            n_iter == 1
            or n_iter % self.verbose_interval == 0
            or seconds - last >= _PROGRESS_SECONDS
        ):
            self._last_progress = seconds
            _say(
                f"  Iteration {n_iter}\t log-likelihood {ll:.6f}\t "
                f"change {change:.3e}\t time {seconds:.3f}s"
            )

    def _print_pause(self, n_iter, ll):
        if self.verbose:
            _say(f"Short run ended after {n_iter} iterations. log-likelihood: {ll:.6f}")

    def _print_resume(self, index, first):
        if self.verbose:
            _say(f"Continuing initialization {index} from iteration {first}")

    def _print_end(self, converged, ll):
        if self.verbose:
            state = "converged" if converged else "did not converge"
            _say(f"Initialization {state}. log-likelihood: {ll:.6f}")
