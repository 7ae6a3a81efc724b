"""Progress lines of a fit, as ``GaussianMixture`` prints them with
``verbose``."""

# The longest time between two progress lines: with costly experts (a
# boosting model refitted every EM iteration) a line every verbose_interval
# iterations could come minutes apart.
_PROGRESS_SECONDS = 10.0


class _ProgressMixin:
    """``verbose`` output of EM: each start, its iterations, its end."""

    def _print_start(self, index):
        if self.verbose:
            print(f"Initialization {index}")

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
            print(
                f"  Iteration {n_iter}\t log-likelihood {ll:.6f}\t "
                f"change {change:.3e}\t time {seconds:.3f}s"
            )

    def _print_pause(self, n_iter, ll):
        if self.verbose:
            print(
                f"Short run ended after {n_iter} iterations. log-likelihood: {ll:.6f}"
            )

    def _print_resume(self, index, first):
        if self.verbose:
            print(f"Continuing initialization {index} from iteration {first}")

    def _print_end(self, converged, ll):
        if self.verbose:
            state = "converged" if converged else "did not converge"
            print(f"Initialization {state}. log-likelihood: {ll:.6f}")
