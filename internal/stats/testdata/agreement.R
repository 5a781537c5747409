# Reference values for agreement_test.go. R 4.2.2, multilevel 2.7, psych 2.2.9
# (Debian 12 r-cran-*). Run: Rscript agreement.R
suppressMessages({library(multilevel); library(psych)})
options(digits = 17)
if (!file.exists("responses.csv")) {
  # Made once: 9 teams of 2-11 respondents answering three 1-5 items.
  set.seed(16)
  sizes <- c(5, 8, 3, 11, 6, 2, 7, 4, 9)
  team <- rep(paste0("t", seq_along(sizes)), sizes)
  lvl <- rep(rnorm(length(sizes), 0, 0.6), sizes)
  item <- function() pmin(5, pmax(1, round(3.5 + lvl + rnorm(length(team), 0, 0.9))))
  d <- data.frame(team = team, item1 = item(), item2 = item(), item3 = item())
  d$item2[c(4, 20)] <- NA   # two skipped answers
  write.csv(d, "responses.csv", row.names = FALSE, quote = FALSE, na = "")
}
d <- read.csv("responses.csv")
items <- d[, c("item1", "item2", "item3")]

# ICC(1), ICC(2) of the respondent's index (mean of the answered items).
d$index <- rowMeans(items, na.rm = TRUE)
a <- aov(index ~ as.factor(team), data = d)
s <- summary(a)[[1]]
cat("ICC1", ICC1(a), "ICC2", ICC2(a), "F", s[1, 4], "p", s[1, 5], "df", s[1, 1], s[2, 1],
    "MSB", s[1, 3], "MSW", s[2, 3], "\n")
cat("mult.icc (REML, differs on unbalanced data):\n"); print(mult.icc(d[c("index", "item1")], d$team))

# rwg(j) per team, uniform null for a 5-point scale: (5^2 - 1)/12 = 2.
# rwg.j drops respondents with a missing item.
print(rwg.j(items, d$team, ranvar = 2))
print(rwg(d$item1, d$team, ranvar = 2))

# Balanced: 6 teams x 4 respondents, psych::ICC (rows = teams).
b <- matrix(c(4, 5, 4, 4,
              2, 3, 2, 3,
              5, 5, 4, 5,
              3, 4, 2, 3,
              4, 4, 5, 3,
              1, 2, 2, 3), nrow = 6, byrow = TRUE)
ic <- ICC(b, lmer = FALSE)$results
cat("psych ICC1", ic["Single_raters_absolute", "ICC"], "ICC1k", ic["Average_raters_absolute", "ICC"], "\n")
long <- data.frame(team = rep(1:6, each = 4), v = as.vector(t(b)))
a2 <- aov(v ~ as.factor(team), data = long)
cat("multilevel ICC1", ICC1(a2), "ICC2", ICC2(a2), "\n")
