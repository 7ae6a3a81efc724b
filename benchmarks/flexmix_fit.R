# Fit flexmix's mixture of linear regressions with a multinomial concomitant
# (gating) model, for benchmarks/flexmix.py.
#
# Usage: Rscript flexmix_fit.R TRAIN.csv K SEED MINPRIOR OUT_PREFIX [PREDICT.csv SIZES]
#
# TRAIN.csv has columns x1, x2, y. Writes
#   OUT_PREFIX_summary.csv  key,value: logLik (sum over rows), iter, converged,
#                           seconds (system.time elapsed of the fit), k (kept),
#                           k0 (asked), minprior, flexmix version, error
#   OUT_PREFIX_experts.csv  parameters(fit): coef.(Intercept), coef.x1,
#                           coef.x2, sigma per component
#   OUT_PREFIX_gate.csv     parameters(fit, which = "concomitant"): the
#                           multinomial logit coefficients, first component
#                           the reference (a column of zeros)
#   OUT_PREFIX_predict.csv  rows,seconds of predict(fit, newdata, aggregate =
#                           TRUE) on the first SIZES rows of PREDICT.csv
suppressPackageStartupMessages(library(flexmix))

args <- commandArgs(trailingOnly = TRUE)
train <- read.csv(args[1])
k <- as.integer(args[2])
seed <- as.integer(args[3])
minprior <- as.numeric(args[4])
prefix <- args[5]

summary <- list(k0 = k, minprior = minprior,
                version = as.character(packageVersion("flexmix")), error = "")
set.seed(seed)
fit <- NULL
timing <- system.time(
  fit <- tryCatch(
    flexmix(y ~ x1 + x2, data = train, k = k,
            concomitant = FLXPmultinom(~ x1 + x2),
            control = list(minprior = minprior)),
    error = function(e) {
      summary$error <<- gsub("[\r\n,]", " ", conditionMessage(e))
      NULL
    }
  )
)
summary$seconds <- timing[["elapsed"]]
if (!is.null(fit)) {
  summary$logLik <- as.numeric(logLik(fit))
  summary$iter <- fit@iter
  summary$converged <- as.integer(fit@converged)
  summary$k <- fit@k
  write.csv(parameters(fit), paste0(prefix, "_experts.csv"))
  gate <- tryCatch(parameters(fit, which = "concomitant"),
                   error = function(e) NULL)
  if (!is.null(gate)) write.csv(gate, paste0(prefix, "_gate.csv"))
  if (length(args) >= 7) {
    newdata <- read.csv(args[6])
    sizes <- as.integer(strsplit(args[7], ";")[[1]])
    seconds <- sapply(sizes, function(m) {
      system.time(predict(fit, newdata = newdata[seq_len(m), ],
                          aggregate = TRUE))[["elapsed"]]
    })
    write.csv(data.frame(rows = sizes, seconds = seconds),
              paste0(prefix, "_predict.csv"), row.names = FALSE)
  }
}
write.csv(data.frame(key = names(summary), value = unlist(summary)),
          paste0(prefix, "_summary.csv"), row.names = FALSE)
