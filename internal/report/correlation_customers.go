package report

import (
	"context"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// CustomerChanges is a Source that can say which periods' customer totals
// changed after a released-data version (store.Store.MetricTotalsChanged).
// A loader whose source has it and ReleasedVersioner keeps the customer
// totals it read and, when the version moves, reads again only the periods
// that changed: one new rating costs one week's totals, not two years'.
type CustomerChanges interface {
	MetricTotalsChanged(ctx context.Context, kind, metric string, from, to time.Time, since int64) ([]time.Time, error)
}

// maxChangedPeriods is how many changed periods the loader reads one by
// one; past it (a bulk import touching most of the range) it reads the
// whole range again, on GOMAXPROCS readers.
const maxChangedPeriods = 8

// customerKey names the customer totals of one kind of period and metric.
type customerKey struct{ kind, metric string }

// customerTotalsKept are the customer totals of one kind and metric over
// [from, to), as read at released-data version. They are never changed
// once made: an update makes a new value that shares the periods it did
// not read again.
type customerTotalsKept struct {
	version  int64
	from, to time.Time
	periods  []customerPeriod // in order, only periods with rows
}

// customerPeriod is one period's totals, a unit's at the same index of
// each column, in unit order (MetricTotals' order), with only the columns
// the metric has: 8 bytes a unit-period for CSAT and 12 for NPS or CES,
// where a CustomerTotalsRow takes 88. A period with the same units as the
// one before it shares its list of ids.
type customerPeriod struct {
	start time.Time
	units []int64
	n, a  []int32   // ratings; a: Top (CSAT) or Promoters (NPS)
	b     []int32   // Detractors (NPS)
	sum   []float64 // the scores' sum (CES)
}

// packCustomer lays rows of metric (in MetricTotals' order) out by period.
func packCustomer(metric string, rows []tandem.CustomerTotalsRow) []customerPeriod {
	var out []customerPeriod
	for lo := 0; lo < len(rows); {
		hi := lo + 1
		for hi < len(rows) && rows[hi].Period.Equal(rows[lo].Period) {
			hi++
		}
		run := rows[lo:hi]
		p := customerPeriod{start: run[0].Period, units: make([]int64, len(run)), n: make([]int32, len(run))}
		switch metric {
		case tandem.MetricCSAT, tandem.MetricNPS:
			p.a = make([]int32, len(run))
		case tandem.MetricCES:
			p.sum = make([]float64, len(run))
		}
		if metric == tandem.MetricNPS {
			p.b = make([]int32, len(run))
		}
		for i := range run {
			r := &run[i]
			p.units[i], p.n[i] = r.UnitID, int32(r.N)
			switch metric {
			case tandem.MetricCSAT:
				p.a[i] = int32(r.Top)
			case tandem.MetricNPS:
				p.a[i], p.b[i] = int32(r.Promoters), int32(r.Detractors)
			case tandem.MetricCES:
				p.sum[i] = r.Sum
			}
		}
		out = append(out, p)
		lo = hi
	}
	return out
}

// shareUnits makes each period use the list of unit ids of the one
// before it when the two are equal.
func shareUnits(periods []customerPeriod) {
	for i := 1; i < len(periods); i++ {
		p, prev := &periods[i], &periods[i-1]
		if len(p.units) > 0 && len(p.units) == len(prev.units) && &p.units[0] != &prev.units[0] && slices.Equal(p.units, prev.units) {
			p.units = prev.units
		}
	}
}

// customerSpan is the customer totals a report reads: the kept periods
// of one metric in its range, shared with the loader and never changed.
// A report reads them in place; laid out as MetricTotals rows they were
// 88 bytes a unit-period, 26 MB at 2,500 teams and two years of weeks,
// for every report built.
type customerSpan struct {
	metric  string
	periods []customerPeriod
}

// span returns the kept totals of metric in the periods in [from, to).
func (k *customerTotalsKept) span(metric string, from, to time.Time) customerSpan {
	lo, _ := slices.BinarySearchFunc(k.periods, from, func(p customerPeriod, t time.Time) int { return p.start.Compare(t) })
	hi, _ := slices.BinarySearchFunc(k.periods, to, func(p customerPeriod, t time.Time) int { return p.start.Compare(t) })
	return customerSpan{metric: metric, periods: k.periods[lo:hi:hi]}
}

// each calls f with every unit's totals in every period, in MetricTotals'
// order and with the fields MetricTotals fills for the metric.
func (s customerSpan) each(f func(unit int64, period time.Time, c tandem.CustomerTotals)) {
	for _, p := range s.periods {
		for i, unit := range p.units {
			c := tandem.CustomerTotals{N: int(p.n[i])}
			switch s.metric {
			case tandem.MetricCSAT:
				c.Top = int(p.a[i])
			case tandem.MetricNPS:
				c.Promoters, c.Detractors = int(p.a[i]), int(p.b[i])
			case tandem.MetricCES:
				c.Sum = p.sum[i]
			}
			f(unit, p.start, c)
		}
	}
}

// customerTotals returns the totals of metric in periods of kind from
// from's period up to, not including, to (MetricTotals' rows). With a
// version (the released data the report reads; 0: none) and a source
// that says what changed, it keeps what it read and reads again only the
// periods changed since.
func (l *CorrelationLoader) customerTotals(ctx context.Context, version int64, kind, metric string, from, to time.Time) (customerSpan, error) {
	from = tandem.PeriodStart(kind, from)
	changes, ok := l.src.(CustomerChanges)
	if version == 0 || !ok {
		periods, err := readCustomerPeriods(ctx, l.src, kind, metric, from, to)
		return customerSpan{metric: metric, periods: periods}, err
	}
	want := func(k *customerTotalsKept) customerSpan { return k.span(metric, from, to) }
	key := customerKey{kind, metric}
	l.mu.Lock()
	kept := l.customers[key]
	l.mu.Unlock()

	var next *customerTotalsKept
	switch {
	case kept != nil && kept.version >= version && !from.Before(kept.from) && !to.After(kept.to):
		return want(kept), nil
	case kept != nil && !from.Before(kept.from) && !to.After(kept.to):
		changed, err := changes.MetricTotalsChanged(ctx, kind, metric, kept.from, kept.to, kept.version)
		if err != nil {
			return customerSpan{}, err
		}
		if len(changed) <= maxChangedPeriods {
			if next, err = l.rereadPeriods(ctx, kept, version, kind, metric, changed); err != nil {
				return customerSpan{}, err
			}
			break
		}
		// Most of it changed: read again the whole of what was kept.
		if next, err = readKept(ctx, l.src, version, kind, metric, kept.from, kept.to); err != nil {
			return customerSpan{}, err
		}
	default:
		var err error
		if next, err = readKept(ctx, l.src, version, kind, metric, from, to); err != nil {
			return customerSpan{}, err
		}
	}
	l.mu.Lock()
	if cur := l.customers[key]; cur == nil || cur.version <= next.version {
		l.customers[key] = next
	}
	l.mu.Unlock()
	return want(next), nil
}

// readKept reads the totals of [from, to) as of version.
func readKept(ctx context.Context, src Source, version int64, kind, metric string, from, to time.Time) (*customerTotalsKept, error) {
	periods, err := readCustomerPeriods(ctx, src, kind, metric, from, to)
	if err != nil {
		return nil, err
	}
	return &customerTotalsKept{version: version, from: from, to: to, periods: periods}, nil
}

// rereadPeriods returns kept with the periods changed read again, as of
// version.
func (l *CorrelationLoader) rereadPeriods(ctx context.Context, kept *customerTotalsKept, version int64, kind, metric string, changed []time.Time) (*customerTotalsKept, error) {
	periods := slices.Clone(kept.periods)
	for _, start := range changed {
		rows, err := l.src.MetricTotals(ctx, kind, metric, start, tandem.NextPeriod(kind, start))
		if err != nil {
			return nil, err
		}
		i, found := slices.BinarySearchFunc(periods, start, func(p customerPeriod, t time.Time) int { return p.start.Compare(t) })
		switch fresh := packCustomer(metric, rows); {
		case len(fresh) == 0 && found:
			periods = slices.Delete(periods, i, i+1)
		case len(fresh) == 0:
		case found:
			periods[i] = fresh[0]
		default:
			periods = slices.Insert(periods, i, fresh[0])
		}
	}
	shareUnits(periods) // the kept periods are not changed: periods is a copy
	return &customerTotalsKept{version: version, from: kept.from, to: kept.to, periods: periods}, nil
}

// customerPeriodsPerRead is how many periods of customer totals one
// query reads (a variable, so that a test can change it).
var customerPeriodsPerRead = 8

// readCustomerPeriods reads the totals of [from, to), src.MetricTotals'
// rows, laid out by period: stretches of customerPeriodsPerRead periods,
// read side by side, one per CPU the Go scheduler runs (GOMAXPROCS), each
// laid out as soon as it is read, and joined in order. The rows come
// sorted by period, so the stretches joined are the same rows in the same
// order. Reading two years of weekly totals at 2,500 teams is mostly the
// database driver's CPU, hence side by side; and as read, a row takes 88
// bytes (8 to 12 laid out), so reading them in a few long stretches and
// joining those held some 50 MB for a moment in a server's first report.
func readCustomerPeriods(ctx context.Context, src Source, kind, metric string, from, to time.Time) ([]customerPeriod, error) {
	var starts []time.Time
	for d := tandem.PeriodStart(kind, from); d.Before(to); d = tandem.NextPeriod(kind, d) {
		starts = append(starts, d)
	}
	per := max(1, customerPeriodsPerRead)
	parts := make([][]customerPeriod, max(1, (len(starts)+per-1)/per))
	g, gctx := errgroup.WithContext(ctx) // one stretch failing stops the others
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range parts {
		lo, hi := from, to
		if i > 0 {
			lo = starts[i*per]
		}
		if i < len(parts)-1 {
			hi = starts[(i+1)*per]
		}
		g.Go(func() error {
			rows, err := src.MetricTotals(gctx, kind, metric, lo, hi)
			parts[i] = packCustomer(metric, rows)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []customerPeriod
	for _, p := range parts {
		out = append(out, p...)
	}
	shareUnits(out)
	return out, nil
}
