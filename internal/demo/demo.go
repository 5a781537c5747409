// Package demo builds a realistic demo organisation in a store: a unit tree
// several levels deep, a few hundred employees with managers, hire dates and
// past exits, and sign-in accounts for each role. The same seed always gives
// the same organisation.
package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/csvfile"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Password is the password of every demo account.
const Password = "tandem-demo"

// Account is a demo sign-in.
type Account struct {
	Email, Role, Scope string
}

// Summary says what Generate made.
type Summary struct {
	Units, Employees, Exited int
	Accounts                 []Account
	Rounds                   int
	Ratings                  int
	// Pulse is the pulse history and its open round's links.
	Pulse *History
}

// team is one leaf of the demo tree: its path, size and whether customers
// rate it.
type team struct {
	path           string
	size           int
	customerFacing bool
	location       string
}

// Company is the name of the demo organisation's root unit.
const Company = "Lumen & Co"

// teams lists the demo tree's teams: four levels from the company down.
var teams = []team{
	{"Customer Experience/Support/Tier 1 EMEA", 16, true, "Lisbon"},
	{"Customer Experience/Support/Tier 1 Americas", 15, true, "Austin"},
	{"Customer Experience/Support/Tier 1 APAC", 12, true, "Singapore"},
	{"Customer Experience/Support/Tier 2", 10, true, "Lisbon"},
	{"Customer Experience/Support/Escalations", 7, true, "Austin"},
	{"Customer Experience/Success/Onboarding", 9, true, "Dublin"},
	{"Customer Experience/Success/Enterprise Success", 8, true, "New York"},
	{"Customer Experience/Success/SMB Success", 11, true, "Dublin"},
	{"Sales/EMEA/Inside Sales", 12, true, "Dublin"},
	{"Sales/EMEA/Field Sales", 8, true, "Berlin"},
	{"Sales/Americas/Inside Sales", 13, true, "Austin"},
	{"Sales/Americas/Field Sales", 9, true, "New York"},
	{"Sales/APAC/Inside Sales", 7, true, "Singapore"},
	{"Sales/Sales Operations", 6, false, "Dublin"},
	{"Product & Engineering/Platform/Core API", 10, false, "Berlin"},
	{"Product & Engineering/Platform/Data", 8, false, "Berlin"},
	{"Product & Engineering/Platform/Infrastructure", 7, false, "Remote"},
	{"Product & Engineering/Apps/Web", 11, false, "Lisbon"},
	{"Product & Engineering/Apps/Mobile", 8, false, "Lisbon"},
	{"Product & Engineering/Apps/Integrations", 6, false, "Remote"},
	{"Product & Engineering/Design", 7, false, "Berlin"},
	{"Product & Engineering/Quality", 5, false, "Remote"},
	{"Operations/Logistics/Warehouse North", 14, true, "Leeds"},
	{"Operations/Logistics/Warehouse South", 13, true, "Bristol"},
	{"Operations/Logistics/Fulfilment", 10, true, "Leeds"},
	{"Operations/Facilities", 5, false, "Leeds"},
	{"Operations/Procurement", 4, false, "Leeds"},
	{"People & Finance/People/Recruiting", 6, false, "Dublin"},
	{"People & Finance/People/People Partners", 5, false, "Dublin"},
	{"People & Finance/Finance/Accounting", 6, false, "Dublin"},
	{"People & Finance/Finance/Planning", 4, false, "Dublin"},
}

var firstNames = strings.Fields(`Ana Ben Chloé Dmitri Emeka Fatima Giulia Hiro Ines Jonas Kavya Liam Maya Nadia Omar Priya
Quinn Rosa Samir Tomás Uma Viktor Wen Ximena Yusuf Zoe Aisha Bruno Carmen Diego Elif Farah Gabriel Hana Ivan Jana Kofi
Lea Mateo Nina Oskar Paula Rahul Sofia Tariq Ursula Valentina Wei Yara Zainab Amir Bea Caio Dara Erik Freya Greta Hugo
Ilse Jules Kai Lucía Marek Noor Olga Pedro Rania Sven Thea Ugo Vera Willem Xin Yosef Zara`)

var lastNames = strings.Fields(`Silva Okafor Martin Petrov Eze Haddad Rossi Tanaka García Weber Iyer Murphy Cohen Rahman
Farouk Sharma Byrne Moreno Aziz Costa Lund Novak Chen López Kaya Laurent Andersen Nakamura Dubois Mensah Kowalski Ali
Schmidt O'Brien Fernández Yilmaz Nguyen Walsh Papadopoulos Santos Berg Hoffmann Kim Oliveira Jensen Ahmed Russo Meyer
Park Duarte Horvat Ibrahim Fischer Sato Almeida Nowak Dalton Mendes Virtanen Banerjee`)

// Options tune Generate.
type Options struct {
	Seed uint64
	// Today is the demo's "now"; hire and exit dates lie before it
	// (default: the date of Now).
	Today time.Time
	// Now is the moment the demo is built; rounds lie before it. The
	// caller gives it (cmd/tandem the machine's clock, tests a fixed
	// date): Generate never reads the clock itself.
	Now time.Time
	// BaseURL prefixes the printed answer links.
	BaseURL string
}

// Generate fills an empty store with the demo organisation.
func Generate(ctx context.Context, st *store.Store, opt Options) (Summary, error) {
	if opt.Seed == 0 {
		opt.Seed = 42
	}
	if opt.Now.IsZero() {
		return Summary{}, errors.New("demo: Options.Now is required (the moment the demo is built)")
	}
	if opt.Today.IsZero() {
		opt.Today = tandem.Today(opt.Now)
	}
	rng := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x5eed))
	var sum Summary
	paths := []string{""}
	for _, t := range teams {
		parts := strings.Split(t.path, "/")
		for i := 1; i <= len(parts); i++ {
			p := strings.Join(parts[:i], "/")
			if !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		}
	}
	m := newModel(rng, paths, opt.Now)
	data, exited := rosterCSV(rng, opt.Today, m)
	plan, err := st.PlanRoster(ctx, bytes.NewReader(data), roster.Options{Today: opt.Today})
	if err != nil {
		return sum, fmt.Errorf("demo roster: %w", err)
	}
	res, err := st.ApplyRoster(ctx, plan, opt.Today)
	if err != nil {
		return sum, fmt.Errorf("demo roster: %w", err)
	}
	sum.Employees, sum.Exited = res.Added, exited
	tree, err := st.Tree(ctx)
	if err != nil {
		return sum, err
	}
	sum.Units = tree.Len()
	for _, t := range teams {
		if !t.customerFacing {
			continue
		}
		u := tree.ByPath(append([]string{Company}, strings.Split(t.path, "/")...))
		if err := st.UpdateUnit(ctx, u.ID, u.Name, true); err != nil {
			return sum, err
		}
	}
	hash, err := auth.HashPassword(Password)
	if err != nil {
		return sum, err
	}
	cx := tree.ByPath([]string{Company, "Customer Experience"})
	support := tree.ByPath([]string{Company, "Customer Experience", "Support", "Tier 1 EMEA"})
	for _, a := range []struct {
		email string
		role  tandem.Role
		scope *tandem.Unit
	}{
		{"admin@example.com", tandem.RoleAdmin, nil},
		{"hr@example.com", tandem.RoleHR, nil},
		{"cx.leader@example.com", tandem.RoleLeader, cx},
		{"support.lead@example.com", tandem.RoleLeader, support},
	} {
		u := &tandem.User{Email: a.email, Role: a.role, PasswordHash: hash}
		acc := Account{Email: a.email, Role: string(a.role), Scope: "whole organisation"}
		if a.scope != nil {
			u.ScopeUnitID, acc.Scope = a.scope.ID, a.scope.Path
		}
		if err := st.CreateUser(ctx, u); err != nil {
			return sum, err
		}
		sum.Accounts = append(sum.Accounts, acc)
	}
	if sum.Pulse, err = generatePulse(ctx, st, rng, tree, m, opt.Now, opt.BaseURL); err != nil {
		return sum, fmt.Errorf("demo pulse history: %w", err)
	}
	sum.Rounds = len(sum.Pulse.Weeks)
	if sum.Ratings, err = generateRatings(ctx, st, rng, tree, m, opt.Now); err != nil {
		return sum, fmt.Errorf("demo customer ratings: %w", err)
	}
	if err := st.SetSetting(ctx, "demo", "1"); err != nil {
		return sum, err
	}
	return sum, nil
}

// Exits follow engagement: in every month since the model's start, a
// person leaves voluntarily with probability VoluntaryBase·exp(−VoluntaryPull
// ·level) (lower engagement, more voluntary exits), or involuntarily with
// probability Involuntary; a leaver is replaced two weeks later by a new
// hire in the same team. Half the voluntary exits are regretted. Leads do
// not leave.
const (
	VoluntaryBase = 0.010
	VoluntaryPull = 1.6
	Involuntary   = 0.0015
)

// rosterCSV writes the demo roster as a roster CSV, so the demo goes through
// the same import as a real roster. Each team has a lead (the first person)
// who reports to the lead of the department above.
func rosterCSV(rng *rand.Rand, today time.Time, m *model) ([]byte, int) {
	var buf bytes.Buffer
	w := csvfile.NewWriter(&buf)
	w.Write([]string{"employee_id", "email", "name", "team", "manager", "location", "hired_on", "exited_on", "exit_type", "regretted", "exit_reason"})
	n := 0
	used := map[string]int{}
	exited := 0
	leads := map[string]string{} // unit path -> employee id of its lead
	reasons := []string{"career move", "compensation", "relocation", "workload", "manager", "study"}
	person := func(teamPath, manager, location string, hired time.Time, canExit bool) (string, time.Time) {
		n++
		id := fmt.Sprintf("E%04d", n)
		first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		local := strings.ToLower(asciiOnly(first) + "." + asciiOnly(last))
		used[local]++
		if used[local] > 1 {
			local = fmt.Sprintf("%s%d", local, used[local])
		}
		team := Company
		if teamPath != "" {
			team += "/" + teamPath
		}
		row := []string{id, local + "@example.com", first + " " + last, team, manager, location, tandem.FormatDate(hired), "", "", "", ""}
		var exit time.Time
		if canExit {
			for mo := maxTime(hired, m.Start).AddDate(0, 1, 0); mo.Before(today); mo = mo.AddDate(0, 1, 0) {
				level := m.at(teamPath, mo)
				u := rng.Float64()
				if u < VoluntaryBase*math.Exp(-VoluntaryPull*level) {
					exit = mo.AddDate(0, 0, rng.IntN(28))
					reg := "no"
					if rng.Float64() < 0.5 {
						reg = "yes"
					}
					row[7], row[8], row[9], row[10] = tandem.FormatDate(exit), "voluntary", reg, reasons[rng.IntN(len(reasons))]
					break
				} else if u < VoluntaryBase*math.Exp(-VoluntaryPull*level)+Involuntary {
					exit = mo.AddDate(0, 0, rng.IntN(28))
					row[7], row[8], row[10] = tandem.FormatDate(exit), "involuntary", "performance"
					break
				}
			}
			if !exit.IsZero() && !exit.Before(today) {
				exit = time.Time{}
				row[7], row[8], row[9], row[10] = "", "", "", ""
			}
			if !exit.IsZero() {
				exited++
			}
		}
		w.Write(row)
		return id, exit
	}
	years := func(y float64) time.Time { return today.AddDate(0, 0, -int(y*365)) }
	ceo, _ := person("", "", "Dublin", years(9), false)
	leads[""] = ceo
	for _, t := range teams {
		parts := strings.Split(t.path, "/")
		// Leads for each level above the team, created the first time.
		for i := 1; i <= len(parts); i++ {
			p := strings.Join(parts[:i], "/")
			if _, ok := leads[p]; !ok {
				parent := leads[strings.Join(parts[:i-1], "/")]
				leads[p], _ = person(p, parent, t.location, years(2+rng.Float64()*6), false)
			}
		}
		lead := leads[t.path]
		for i := 1; i < t.size*3/2; i++ {
			// Each seat: the person in it, and whoever replaces a leaver.
			_, exit := person(t.path, lead, t.location, years(0.1+rng.Float64()*7), true)
			for !exit.IsZero() {
				_, exit = person(t.path, lead, t.location, exit.AddDate(0, 0, 14), true)
			}
		}
	}
	w.Flush()
	return buf.Bytes(), exited
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func asciiOnly(s string) string {
	r := strings.NewReplacer("é", "e", "á", "a", "í", "i", "ó", "o", "ú", "u", "ñ", "n", "ç", "c", "ã", "a", "'", "", " ", "")
	return r.Replace(s)
}
