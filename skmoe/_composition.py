"""Named experts and the gate as nested parameters, apart from EM.

As scikit-learn's ``_BaseHeterogeneousEnsemble`` does for Voting and Stacking,
this mixin owns how the experts are given (one template cloned ``n_experts``
times, or ``(name, estimator)`` pairs, some perhaps ``"drop"``), how their
parameters are reached (``lin__alpha``, ``experts__alpha``, ``gate__alpha``)
which names are allowed, how metadata is routed to them, and what their
input tags allow (sparse X, NaN). It knows nothing of EM.
"""

from sklearn.base import clone
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)

from ._compat import _raise_for_params, _routing_enabled, _VisualBlock
from ._estimators import accepts
from ._gating import SoftmaxGate

# The HTML repr draws each clone of a template up to this many; more are
# drawn as one box (n_experts=10**5 made a 700 MB page).
_CLONES_SHOWN = 10


def _is_drop(expert):
    return isinstance(expert, str) and expert == "drop"


def _is_named_list(experts):
    """Whether ``experts`` looks like a list of (name, estimator) pairs."""
    return (
        isinstance(experts, (list, tuple))
        and len(experts) > 0
        and all(isinstance(item, tuple) and len(item) == 2 for item in experts)
    )


def build_nested_defaults(estimator, params, default_expert):
    """Build the default gate and expert that ``params`` reach into.

    While ``gate=None`` (``experts=None``), ``gate__alpha`` (``experts__C``)
    addresses the default that ``fit`` would build, so it is built now
    (``SoftmaxGate()``, ``default_expert()``) and its parameter can be set,
    unless ``params`` replaces it outright.
    """
    defaults = {"gate": SoftmaxGate, "experts": default_expert}
    for attr, make_default in defaults.items():
        nested = any(key.startswith(attr + "__") for key in params)
        if nested and attr not in params and getattr(estimator, attr) is None:
            setattr(estimator, attr, make_default())


class _NamedExpertsMixin:
    """Nested parameters and specs of a mixture's experts and gate.

    Needs ``experts``, ``n_experts`` and ``gate`` parameters and a
    ``_default_expert()`` hook (the expert used when ``experts=None``).
    """

    def get_params(self, deep=True):
        """Get the parameters of the mixture and, with ``deep=True``, its parts.

        Named experts appear under their names (``"lin"``) and their parameters
        as ``"lin__alpha"``; a single template expert as ``"experts__alpha"``;
        the gate as ``"gate__alpha"``.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of the experts and of the gate.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.

        Examples
        --------
        >>> from sklearn.linear_model import LinearRegression, Ridge
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> moe = MixtureOfExpertsRegressor(
        ...     [("lin", LinearRegression()), ("ridge", Ridge(alpha=2.0))]
        ... )
        >>> params = moe.get_params()
        >>> params["ridge"], params["ridge__alpha"]
        (Ridge(alpha=2.0), 2.0)
        >>> MixtureOfExpertsRegressor(Ridge()).get_params()["experts__alpha"]
        1.0
        """
        out = super().get_params(deep=deep)
        if deep and _is_named_list(self.experts):
            for name, expert in self.experts:
                out[name] = expert
                if hasattr(expert, "get_params") and not isinstance(expert, type):
                    for key, value in expert.get_params(deep=True).items():
                        out[f"{name}__{key}"] = value
        return out

    def set_params(self, **params):
        """Set parameters of the mixture, of named experts or of the gate.

        ``set_params(lin=Ridge())`` replaces the expert named ``"lin"``;
        ``set_params(lin__alpha=2.0)`` changes one of its parameters;
        ``set_params(gate__alpha=0.1)`` reaches the default gate even while
        ``gate=None`` (the default gate is then built with that value), and
        likewise ``experts__...`` for the default experts. All or nothing:
        if one parameter is refused, the mixture, its experts and its gate
        keep every parameter they had.

        Parameters
        ----------
        **params : dict
            Parameter names and values.

        Returns
        -------
        self : estimator instance
            The mixture, with the parameters set.

        Examples
        --------
        >>> from sklearn.linear_model import LinearRegression, Ridge
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> moe = MixtureOfExpertsRegressor(
        ...     [("lin", LinearRegression()), ("ridge", Ridge())]
        ... )
        >>> moe.set_params(ridge__alpha=2.0).experts
        [('lin', LinearRegression()), ('ridge', Ridge(alpha=2.0))]
        >>> moe.set_params(gate__alpha=0.1).gate
        SoftmaxGate(alpha=0.1)
        """
        # Parameters are set one at a time, and a default expert or gate is
        # built before its nested parameters are checked, so a refused
        # parameter would leave the others set: a trial on a clone raises
        # before anything here changes.
        clone(self)._apply_params(dict(params))
        return self._apply_params(params)

    def _apply_params(self, params):
        if "experts" in params:
            self.experts = params.pop("experts")
        if _is_named_list(self.experts):
            template_keys = sorted(k for k in params if k.startswith("experts__"))
            if template_keys:
                raise ValueError(
                    f"Invalid parameters {template_keys}: 'experts__...' addresses "
                    "a single template expert, but 'experts' is a list of named "
                    "experts; use '<name>__<parameter>' instead."
                )
            names = [item[0] for item in self.experts]
            for key in [k for k in params if "__" not in k and k in names]:
                value = params.pop(key)
                self.experts = [
                    (name, value if name == key else expert)
                    for name, expert in self.experts
                ]
        build_nested_defaults(self, params, self._default_expert)
        return super().set_params(**params)

    def _n_experts_asked(self):
        """How many experts the parameters ask for: the named experts not
        dropped, else ``n_experts``."""
        if _is_named_list(self.experts):
            return sum(not _is_drop(expert) for _, expert in self.experts)
        return self.n_experts

    def _expert_specs(self):
        """The experts as ``(names, unfitted estimators, cloned_from_template)``."""
        experts = self.experts
        if _is_named_list(experts):
            names = [name for name, _ in experts]
            self._check_names(names)
            kept = [(n, e) for n, e in experts if not _is_drop(e)]
            if not kept:
                raise ValueError(
                    "All experts are dropped. At least one is required to be an "
                    "estimator."
                )
            return [n for n, _ in kept], [e for _, e in kept], False
        if experts is None:
            template = self._default_expert()
        elif hasattr(experts, "fit") or isinstance(experts, type):
            template = experts
        else:
            raise TypeError(
                "'experts' must be None, an estimator (cloned n_experts times) or a "
                f"non-empty list of (name, estimator) tuples; got {experts!r}."
            )
        names = [f"expert{i}" for i in range(self.n_experts)]
        return names, [template] * self.n_experts, True

    def _check_names(self, names):
        if not all(isinstance(name, str) for name in names):
            raise TypeError(f"Expert names must be strings, got {names!r}.")
        if len(set(names)) != len(names):
            raise ValueError(f"Expert names are not unique: {names!r}.")
        clash = sorted(set(names).intersection(self.get_params(deep=False)))
        if clash:
            raise ValueError(
                f"Expert names conflict with constructor arguments: {clash!r}."
            )
        nested = [name for name in names if "__" in name]
        if nested:
            raise ValueError(f"Expert names must not contain __: got {nested!r}.")
        # "/" joins the names along a hierarchy (leaf_names_, warnings):
        # "sub/expert0" beside a mixture "sub" would name two leaves alike.
        paths = [name for name in names if "/" in name]
        if paths:
            raise ValueError(
                "Expert names must not contain '/', which joins the names of "
                f"nested mixtures' experts in leaf_names_: got {paths!r}."
            )

    def _sk_visual_block_(self):
        """The HTML repr: the experts side by side, by name, then the gate
        (the default SoftmaxGate too), as StackingClassifier draws its
        estimators and final estimator."""
        try:
            names, templates, cloned = self._expert_specs()
        except Exception:  # invalid experts: show what was given
            names, templates, cloned = ["experts"], [self.experts], False
        if cloned and len(names) > _CLONES_SHOWN:
            # Clones of one template: one box, not a page per clone.
            names, templates = [f"{names[0]} ... {names[-1]}"], templates[:1]
        gate = SoftmaxGate() if self.gate is None else self.gate
        experts = _VisualBlock("parallel", templates, names=names, dash_wrapped=False)
        gate = _VisualBlock("parallel", [gate], names=["gate"], dash_wrapped=False)
        return _VisualBlock("serial", (experts, gate), dash_wrapped=False)

    def _route(self, fit_params):
        """Metadata for the experts' and the gate's fit, by name."""
        if not _routing_enabled():
            _raise_for_params(fit_params, self, "fit")
            return {}
        routed = process_routing(self, "fit", **fit_params)
        names, _, _ = self._expert_specs()
        params = {name: dict(routed[name].fit) for name in [*names, "gate"]}
        aliased = [name for name, values in params.items() if "sample_weight" in values]
        if aliased:
            # Only an alias brings it here: the mixture's own sample_weight
            # is an argument of fit, not routed metadata.
            raise ValueError(
                f"{aliased!r} request other metadata as their sample_weight, but "
                "EM gives each expert and the gate its own weights: the "
                "responsibilities times the mixture's sample_weight. Pass those "
                "weights as the mixture's sample_weight instead."
            )
        return params

    def get_metadata_routing(self):
        """Get the metadata routing of ``fit``: to each expert and the gate.

        The mixture consumes ``sample_weight`` and ``init_resp`` itself; any
        other metadata goes to the experts and the gate that request it, as
        in :class:`~sklearn.ensemble.VotingRegressor`.

        Returns
        -------
        routing : :class:`~sklearn.utils.metadata_routing.MetadataRouter`
            The mixture's own requests and one route per expert, by name,
            and for the gate.

        Examples
        --------
        >>> from sklearn.linear_model import LinearRegression
        >>> from sklearn.tree import DecisionTreeRegressor
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> moe = MixtureOfExpertsRegressor(
        ...     [("lin", LinearRegression()), ("tree", DecisionTreeRegressor())]
        ... )
        >>> [name for name, _ in moe.get_metadata_routing()]
        ['$self_request', 'lin', 'tree', 'gate']
        """
        router = MetadataRouter(owner=self).add_self_request(self)
        names, templates, _ = self._expert_specs()
        gate = SoftmaxGate() if self.gate is None else self.gate
        for name, estimator in [*zip(names, templates, strict=True), ("gate", gate)]:
            router.add(
                **{name: estimator},
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        return router

    def _experts_accept(self, input_tag):
        """Whether every expert's ``input_tag`` (``"sparse"``, ``"allow_nan"``)
        is set, asking each distinct template once.

        ``n_experts`` clones of one template are one question, not
        ``n_experts``: tags are read by every ``validate_data`` call, before
        ``fit`` can refuse a huge ``n_experts``.
        """
        try:
            if _is_named_list(self.experts):
                _, templates, _ = self._expert_specs()
            else:
                experts = self.experts
                templates = [self._default_expert() if experts is None else experts]
            return all(accepts(t, input_tag) for t in templates)
        except Exception:
            # Invalid experts are reported by fit, with their own message.
            return False

    def _experts_refusing_sparse(self):
        """Names of the experts that do not accept sparse ``X``."""
        return self._experts_without("sparse")

    def _experts_refusing_nan(self):
        """Names of the experts that do not accept NaN in ``X``."""
        return self._experts_without("allow_nan")

    def _experts_without(self, input_tag):
        try:
            names, templates, _ = self._expert_specs()
            return [
                name
                for name, expert in zip(names, templates, strict=True)
                if not accepts(expert, input_tag)
            ]
        except Exception:
            # Invalid experts are reported by fit, with their own message.
            return ["experts"]

    def _gate_refusing_nan(self):
        """The gate's class name if it does not accept NaN, else None.

        A single expert has no gate (it owns every row), so NaN is then for
        the expert alone to accept or refuse.
        """
        if self._n_experts_asked() == 1:
            return None
        gate = SoftmaxGate() if self.gate is None else self.gate
        return None if accepts(gate, "allow_nan") else type(gate).__name__
