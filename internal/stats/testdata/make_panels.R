# Generates the small panels used by within_test.go (run once; the CSVs are
# committed). R 4.2.2.
set.seed(20240516)
d <- expand.grid(period = 1:10, team = paste0("team", 1:8), stringsAsFactors = FALSE)
d <- d[, c("team", "period")]
drop <- c(4, 15, 16, 27, 33, 41, 48, 52, 60, 66, 71, 79)   # missing team-periods
d <- d[-drop, ]
tf <- as.numeric(factor(d$team))
d$x <- round(60 + 3 * tf + 2 * sin(d$period) + rnorm(nrow(d), 0, 4), 2)
d$y <- round(3 + 0.02 * tf + 0.03 * d$x + 0.1 * cos(d$period) + rnorm(nrow(d), 0, 0.25), 2)
write.csv(d, "panel_unbalanced.csv", row.names = FALSE, quote = FALSE)

# Two groups of teams that never share a period (two connected components),
# a team seen once, and one team-period reported twice.
set.seed(7)
e <- rbind(expand.grid(period = 1:5, team = c("a", "b", "c"), stringsAsFactors = FALSE),
           expand.grid(period = 6:9, team = c("d", "e"), stringsAsFactors = FALSE))
e <- e[, c("team", "period")]
e <- rbind(e, data.frame(team = c("f", "b"), period = c(3, 2)))
e$x <- round(rnorm(nrow(e), 10, 2), 2)
e$y <- round(0.4 * e$x + rnorm(nrow(e), 0, 1), 2)
write.csv(e, "panel_split.csv", row.names = FALSE, quote = FALSE)
