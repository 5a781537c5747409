# Reference values for lags_test.go: the procedure documented on
# stats.ScanLags, written out independently in R 4.2.2 with lm, lm.wfit,
# uniroot, sandwich 3.0.2 and lmtest 0.9.40. Run: Rscript lags.R
suppressMessages({library(sandwich); library(lmtest)})
options(digits = 17)
if (!file.exists("lagpanel.csv")) {
  # Made once: 9 teams, periods 1-40 (team 9 joins at period 11), AR(1)
  # drift plus survey noise in engagement, customers following it 2 periods
  # later, about 8% of cells missing on each side.
  set.seed(1998)
  rows <- list()
  for (i in 1:9) {
    s <- as.numeric(arima.sim(list(ar = 0.85), n = 60, sd = 0.1))
    ps <- if (i == 9) 11:40 else 1:40
    for (p in ps) {
      x <- 3.5 + i / 10 + s[p + 10] + 0.1 * sin(p / 5) + rnorm(1, 0, 0.12)
      y <- 4 + 1.5 * s[p + 8] + 0.05 * sin(p / 5) + rnorm(1, 0, 0.15)
      rows[[length(rows) + 1]] <- data.frame(team = paste0("team", i), period = p,
        x = if (runif(1) < 0.08) NA else round(x, 3), y = if (runif(1) < 0.08) NA else round(y, 3))
    }
  }
  write.csv(do.call(rbind, rows), "lagpanel.csv", row.names = FALSE, quote = FALSE, na = "")
}
d <- read.csv("lagpanel.csv")

# 1. Two-way residuals of each side over its own rows.
xr <- d[!is.na(d$x), c("team", "period", "x")]
xr$r <- resid(lm(x ~ factor(team) + factor(period), data = xr))
yr <- d[!is.na(d$y), c("team", "period", "y")]
yr$r <- resid(lm(y ~ factor(team) + factor(period), data = yr))

# 2. Within-team variogram of engagement, k = 1..K, K = min(10, span %/% 4).
span <- max(tapply(xr$period, xr$team, function(p) max(p) - min(p) + 1))
K <- min(10, span %/% 4)
V <- w <- numeric(K)
for (k in 1:K) {
  m <- merge(xr, transform(xr, period = period - k), by = c("team", "period"))
  V[k] <- mean((m$r.y - m$r.x)^2 / 2); w[k] <- nrow(m)
}
fitv <- function(phi) {
  z <- 1 - phi^(1:K)
  if (phi == 0) return(c(weighted.mean(V, w), 0, sum(w * (V - weighted.mean(V, w))^2)))
  l <- lm.wfit(cbind(1, z), V, w)
  c(l$coefficients, sum(w * l$residuals^2))
}
grad <- function(phi) {  # d rss / d phi, up to a positive factor
  k <- 1:K; z <- 1 - phi^k; zp <- -k * phi^(k - 1)
  mz <- weighted.mean(z, w); mzp <- weighted.mean(zp, w); mv <- weighted.mean(V, w)
  szz <- sum(w * (z - mz)^2); szv <- sum(w * (z - mz) * (V - mv))
  szzp <- 2 * sum(w * (z - mz) * (zp - mzp)); szvp <- sum(w * (zp - mzp) * (V - mv))
  szv * (szv * szzp - 2 * szvp * szz)
}
grid <- 0.99 * (0:99) / 99
j <- which.min(sapply(grid, function(p) fitv(p)[3]))
phi <- uniroot(grad, c(grid[j - 1], grid[j + 1]), tol = 1e-15)$root
cf <- fitv(phi)
cat("K", K, "pairs", sum(w), "phi", phi, "nugget", cf[1], "sill", cf[2], "\n")

# 3. Filter each side with 1 - phi B, never across a gap.
filt <- function(r) {
  prev <- merge(r, transform(r, period = period + 1)[, c("team", "period", "r")],
                by = c("team", "period"), suffixes = c("", ".prev"))
  data.frame(team = prev$team, period = prev$period, e = prev$r - phi * prev$r.prev)
}
ex <- filt(xr); ey <- filt(yr)

# 4-6. Per lag: two-way within fit of the pairs, Bartlett and clustered p.
res <- NULL
for (L in -6:6) {
  pr <- merge(ex, transform(ey, period = period - L), by = c("team", "period"), suffixes = c(".x", ".y"))
  l <- lm(e.y ~ e.x + factor(team) + factor(period), data = pr)
  df <- l$df.residual; G <- length(unique(pr$team)); N <- nrow(pr)
  a <- resid(lm(e.x ~ factor(team) + factor(period), data = pr))
  b <- resid(lm(e.y ~ factor(team) + factor(period), data = pr))
  r <- cor(a, b)
  V <- vcovCL(l, cluster = ~team, type = "HC0", cadjust = TRUE)
  ct <- coeftest(l, vcov = V, df = G - 1)["e.x", ]
  q <- qt(0.975, G - 1); k <- sqrt(sum(a^2) / sum(b^2))
  clo <- max(-1, (ct[1] - q * ct[2]) * k); chi <- min(1, (ct[1] + q * ct[2]) * k)
  ra <- data.frame(team = pr$team, period = pr$period, a = a, b = b)
  J <- max(1, N %/% (5 * G)); infl <- 1
  for (jj in 1:J) {
    m <- merge(ra, transform(ra, period = period - jj), by = c("team", "period"))
    if (nrow(m) == 0) next
    rhoA <- mean(m$a.x * m$a.y) / (sum(a^2) / N)
    rhoB <- mean(m$b.x * m$b.y) / (sum(b^2) / N)
    infl <- infl + 2 * nrow(m) / N * rhoA * rhoB
  }
  infl <- max(1, infl); dfe <- df / infl
  ps <- 2 * pt(-abs(r * sqrt(dfe / (1 - r^2))), dfe)
  h <- qnorm(0.975) / sqrt(dfe - 1)
  res <- rbind(res, data.frame(lag = L, n = N, teams = G, df = df, r = r,
    lo = min(tanh(atanh(r) - h), clo), hi = max(tanh(atanh(r) + h), chi),
    p = max(ps, ct[4]), pserial = ps, infl = infl, pcluster = ct[4]))
}
res$padj <- pmin(1, nrow(res) * res$p)
for (i in seq_len(nrow(res))) with(res[i, ], cat(sprintf("{%d, %d, %d, %d, %.17g, %.17g, %.17g, %.17g, %.17g, %.17g, %.17g, %.17g},\n",
  lag, n, teams, df, r, lo, hi, p, pserial, infl, pcluster, padj)))
