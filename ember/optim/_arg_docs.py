"""What each optimizer's and learning-rate scheduler's constructor arguments mean: ``document`` appends them to the
class docstring as an ``Args:`` section, which ``help()`` shows and LightningCLI's ``--help`` reads (through
jsonargparse's docstring parsing) beside each argument's type. ``add_args_section`` does it for any callable."""
import inspect

_COMMON = {
    "lr": "learning rate",
    "betas": "decay rates of the running averages of the gradient and of its square",
    "eps": "added to the denominator for numerical stability",
    "weight_decay": "L2 penalty: this multiple of the parameter is added to its gradient",
    "amsgrad": "use the AMSGrad variant (the maximum of the past second-moment estimates)",
    "foreach": "update the parameters in packed groups (None: the library's choice); results are the same",
    "maximize": "maximize the objective (step along the gradient) instead of minimizing it",
    "capturable": "keep the step count on the parameters' device, for graph capture",
    "differentiable": "let autograd record the step itself",
    "fused": "use the fused implementation (None: the library's choice); results are the same",
    "decoupled_weight_decay": "shrink the parameters directly (AdamW's decay) instead of adding the penalty to the "
                              "gradient",
    "momentum": "momentum factor",
    "nesterov": "use Nesterov momentum",
    "last_epoch": "the index of the last epoch, -1 to start the schedule afresh",
    "gamma": "multiplicative factor of learning-rate decay",
    "total_iters": "number of steps the schedule changes the learning rate over",
    "eta_min": "minimum learning rate",
    "anneal_strategy": "the annealing curve: 'cos' (half cosine) or 'linear'",
    "cycle_momentum": "cycle the momentum (or beta1) inversely to the learning rate",
    "base_momentum": "lowest momentum of the cycle (one value, or one per group)",
    "max_momentum": "highest momentum of the cycle (one value, or one per group)",
    "lr_lambda": "a function of the epoch giving the factor (or a list of them, one per parameter group)",
    "milestones": "epochs at which the learning rate is decayed",
    "schedulers": "the schedulers to run",
}

_SPECIFIC = {
    "Adadelta": {"lr": "coefficient scaling the delta before it is applied to the parameters",
                 "rho": "decay rate of the running averages of squared gradients and squared updates"},
    "Adafactor": {"beta2_decay": "exponent of the step in the decay rate of the running second-moment average",
                  "eps": "(eps1, eps2): added to the squared gradient (None: the dtype's smallest normal), and the "
                         "floor of the parameter scale",
                  "d": "clipping threshold of the update's root mean square",
                  "weight_decay": "decoupled weight decay coefficient"},
    "Adagrad": {"lr_decay": "learning-rate decay per step",
                "initial_accumulator_value": "starting value of the sum of squared gradients"},
    "AdamW": {"weight_decay": "decoupled weight decay coefficient"},
    "ASGD": {"lambd": "decay term", "alpha": "power of the eta update", "t0": "step at which averaging starts"},
    "LBFGS": {"max_iter": "maximal number of iterations per optimization step",
              "max_eval": "maximal number of function evaluations per step (None: max_iter * 5 // 4)",
              "tolerance_grad": "termination tolerance on first-order optimality",
              "tolerance_change": "termination tolerance on the change of function value or parameters",
              "history_size": "number of past updates kept",
              "line_search_fn": "'strong_wolfe', or None for a fixed step"},
    "Muon": {"weight_decay": "decoupled weight decay coefficient",
             "ns_coefficients": "coefficients (a, b, c) of the Newton-Schulz iteration",
             "eps": "added to the norm that the update is divided by before the iteration",
             "ns_steps": "number of Newton-Schulz iterations",
             "adjust_lr_fn": "how the learning rate is scaled by the parameter's shape: 'original' or "
                             "'match_rms_adamw' (None: 'original')"},
    "NAdam": {"momentum_decay": "momentum decay (psi)"},
    "RMSprop": {"alpha": "smoothing constant of the running average of squared gradients",
                "centered": "normalize by the estimated variance of the gradient (its running average "
                            "subtracted)"},
    "Rprop": {"etas": "(etaminus, etaplus): factors shrinking and growing the step size",
              "step_sizes": "minimal and maximal step sizes"},
    "SGD": {"dampening": "dampening of the momentum"},
    "StepLR": {"step_size": "period of learning-rate decay, in epochs"},
    "ConstantLR": {"factor": "the factor the learning rate is multiplied by until total_iters"},
    "LinearLR": {"start_factor": "factor of the first epoch", "end_factor": "factor reached after total_iters"},
    "ExponentialLR": {"gamma": "multiplicative factor of learning-rate decay, applied every epoch"},
    "PolynomialLR": {"power": "power of the polynomial"},
    "CosineAnnealingLR": {"T_max": "maximum number of iterations (half a cosine period)"},
    "SequentialLR": {"milestones": "epochs at which the next scheduler takes over"},
    "ChainedScheduler": {"optimizer": "the optimizer the schedulers drive (None: theirs)"},
    "ReduceLROnPlateau": {"mode": "'min': reduce when the metric stops decreasing; 'max': when it stops increasing",
                          "factor": "factor the learning rate is multiplied by when reduced",
                          "patience": "number of epochs without improvement tolerated before reducing",
                          "threshold": "the change that counts as an improvement",
                          "threshold_mode": "'rel': the threshold is relative to the best value; 'abs': absolute",
                          "cooldown": "number of epochs to wait after a reduction before counting again",
                          "min_lr": "lower bound on the learning rate (one value, or one per group)",
                          "eps": "reductions smaller than this are skipped"},
    "CyclicLR": {"base_lr": "lower learning-rate bound of the cycle (one value, or one per group)",
                 "max_lr": "upper learning-rate bound of the cycle (one value, or one per group)",
                 "step_size_up": "number of iterations in the increasing half of a cycle",
                 "step_size_down": "number of iterations in the decreasing half (None: step_size_up)",
                 "mode": "'triangular', 'triangular2' (amplitude halved each cycle) or 'exp_range' (scaled by "
                         "gamma ** iterations); ignored when scale_fn is given",
                 "gamma": "base of the 'exp_range' scaling",
                 "scale_fn": "a custom function of one argument scaling the amplitude (overrides mode)",
                 "scale_mode": "whether scale_fn takes the cycle number ('cycle') or the iteration ('iterations')"},
    "CosineAnnealingWarmRestarts": {"T_0": "number of iterations until the first restart",
                                    "T_mult": "factor growing the period after each restart"},
    "OneCycleLR": {"max_lr": "peak learning rate (one value, or one per group)",
                   "total_steps": "total number of steps (None: epochs * steps_per_epoch)",
                   "epochs": "number of epochs (with steps_per_epoch, when total_steps is None)",
                   "steps_per_epoch": "number of steps per epoch (with epochs, when total_steps is None)",
                   "pct_start": "fraction of the cycle spent increasing the learning rate",
                   "div_factor": "initial learning rate = max_lr / div_factor",
                   "final_div_factor": "final learning rate = initial learning rate / final_div_factor",
                   "three_phase": "a third phase anneals to the final learning rate (instead of two phases)"},
    "SWALR": {"swa_lr": "the learning rate reached (one value, or one per group)",
              "anneal_epochs": "number of epochs of the annealing"},
}


def add_args_section(obj, meanings, skip=()):
    """Appends the arguments of ``obj`` (a class's constructor, or a function) that ``meanings`` describes to its
    docstring, as an ``Args:`` section, in signature order."""
    names = [n for n in inspect.signature(obj.__init__ if isinstance(obj, type) else obj).parameters
             if n in meanings and n not in skip]
    obj.__doc__ = inspect.cleandoc(obj.__doc__ or "") + "\n\nArgs:\n" + "".join(f"    {n}: {meanings[n]}\n"
                                                                              for n in names)


def document(cls):
    """Appends ``cls``'s constructor arguments and their meanings to its docstring, as an ``Args:`` section."""
    specific = _SPECIFIC.get(cls.__name__, {})
    add_args_section(cls, {**_COMMON, **specific}, skip=() if "optimizer" in specific else ("optimizer",))
