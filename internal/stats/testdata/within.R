# Reference values for within_test.go. R 4.2.2, plm 2.6.2, sandwich 3.0.2,
# lmtest 0.9.40, psych 2.2.9 (Debian 12 r-cran-*). Run: Rscript within.R
suppressMessages({library(plm); library(sandwich); library(lmtest); library(psych)})
options(digits = 17)
ref <- function(file, use_plm) {
  d <- read.csv(file)
  l <- lm(y ~ x + factor(team) + factor(period), data = d)
  G <- length(unique(d$team)); df <- l$df.residual
  s <- coef(summary(l))["x", ]
  ci <- confint(l, "x")
  # Cluster-robust by team: HC0 meat with the G/(G-1) factor.
  V <- vcovCL(l, cluster = ~team, type = "HC0", cadjust = TRUE)["x", "x"]
  if (use_plm) {
    m <- plm(y ~ x, data = d, index = c("team", "period"), model = "within", effect = "twoways")
    Vp <- vcovHC(m, method = "arellano", type = "sss", cluster = "group")[1, 1]
    stopifnot(abs(Vp / V - 1) < 1e-12, abs(coef(m) / s[1] - 1) < 1e-12)
    ct <- coeftest(m, vcov = vcovHC(m, method = "arellano", type = "sss", cluster = "group"), df = G - 1)
  } else {
    ct <- coeftest(l, vcov = vcovCL(l, cluster = ~team, type = "HC0", cadjust = TRUE), df = G - 1)["x", , drop = FALSE]
  }
  cse <- sqrt(V); q <- qt(0.975, G - 1)
  # Partial correlation from the residuals of x and y on both sets of dummies.
  xr <- resid(lm(x ~ factor(team) + factor(period), data = d))
  yr <- resid(lm(y ~ factor(team) + factor(period), data = d))
  r <- cor(xr, yr); rc <- r.con(r, df + 2)
  k <- sqrt(sum(xr^2) / sum(yr^2))
  cat(file, "\n")
  cat("N", nrow(d), "teams", G, "df", df, "\n")
  cat("slope", s[1], "se", s[2], "t", s[3], "p", s[4], "\n")
  cat("ci", ci, "\n")
  cat("cluster se", cse, "t", ct[1, 3], "p", ct[1, 4], "\n")
  cat("cluster ci", s[1] - q * cse, s[1] + q * cse, "\n")
  cat("r", r, "r.con", rc, "\n")
  cat("r cluster ci", (s[1] - q * cse) * k, (s[1] + q * cse) * k, "\n\n")
}
ref("panel_unbalanced.csv", TRUE)
ref("panel_split.csv", FALSE)
