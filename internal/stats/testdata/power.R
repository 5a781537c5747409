# Reference values for power_test.go. R 4.2.2, pwr 1.3.0. Run: Rscript power.R
# pwr.r.test solves with uniroot's default tolerance (about 1e-4); the "exact"
# lines solve pwr's own power equation with tol = 1e-15.
library(pwr)
options(digits = 17)
pw <- function(n, r) pwr.r.test(n = n, r = r, sig.level = 0.05)$power
for (n in c(11, 30, 85, 200, 5000)) {
  cat("n", n, "pwr r", pwr.r.test(n = n, power = 0.8, sig.level = 0.05)$r,
      "exact r", uniroot(function(r) pw(n, r) - 0.8, c(1e-10, 1 - 1e-10), tol = 1e-15)$root, "\n")
}
for (r in c(0.1, 0.3, 0.5, 0.74)) {
  cat("r", r, "pwr n", pwr.r.test(r = r, power = 0.8, sig.level = 0.05)$n,
      "exact n", uniroot(function(n) pw(n, r) - 0.8, c(4 + 1e-10, 1e9), tol = 1e-12)$root, "\n")
}
for (a in list(c(11, 0.5), c(50, 0.2), c(4, 0.9), c(1000, 0.05), c(12.5, 0.6))) {
  cat("power n", a[1], "r", a[2], pw(a[1], a[2]), "\n")
}
cat("n 11 power 0.9 alpha 0.01 exact r", uniroot(function(r) pwr.r.test(n = 11, r = r, sig.level = 0.01)$power - 0.9,
    c(1e-10, 1 - 1e-10), tol = 1e-15)$root, "\n")
