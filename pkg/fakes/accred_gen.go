package fakes

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// The fixture subdirectories of persons and authorizations.
const (
	dirPersons        = "persons"
	dirAuthorizations = "authorizations"
)

// AccredPerson is a person of a generated Accred directory and the role
// the directory grants them (calco2.user.principal or calco2.user.standard)
// on the unit of cf CF.
type AccredPerson struct {
	Sciper, Role, CF string
}

// AccredUnit is one unit of a fixture file (docs/jobs.md §9.1).
type AccredUnit struct {
	ID            int64              `json:"id"`
	CF            string             `json:"cf"`
	Name          string             `json:"name"`
	LabelFR       string             `json:"labelfr"`
	LabelEN       string             `json:"labelen"`
	Level         int                `json:"level"`
	ParentID      int64              `json:"parentid"`
	Ancestors     []int64            `json:"ancestors"`
	Path          string             `json:"path"`
	UnitType      map[string]any     `json:"unittype"`
	ResponsibleID string             `json:"responsibleid"`
	Responsible   *AccredResponsible `json:"responsible"`
	EndDate       string             `json:"enddate"`
}

// AccredResponsible is the responsible person of a unit.
type AccredResponsible struct {
	ID      string `json:"id"`
	Email   string `json:"email"`
	Display string `json:"display"`
	Canon   string `json:"canon"`
}

// WriteAccredUnits writes units.json of an Accred fixture directory.
func WriteAccredUnits(dir string, units []AccredUnit) error {
	b, err := json.Marshal(map[string]any{"count": len(units), "units": units})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "units.json"), b, 0o600)
}

// GenerateAccred writes an Accred fixture directory of n units (one school,
// its faculties, institutes and laboratories) and people persons, each a
// principal or a member of a laboratory (the first person of each
// laboratory is its responsible and principal), for benchmarks and tests.
func GenerateAccred(dir string, n, people int) ([]AccredUnit, []AccredPerson, error) {
	if n < 4 {
		return nil, nil, errors.New("at least 4 units")
	}
	for _, sub := range []string{dirPersons, dirAuthorizations} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o750); err != nil {
			return nil, nil, err
		}
	}
	const base = 500000
	faculties := max(1, n/100)
	institutes := max(1, n/20)
	units := []AccredUnit{{ID: base, CF: strconv.Itoa(base / 10), Name: "SCHOOL", Level: 1, Path: "SCHOOL"}}
	add := func(level int, parent AccredUnit, name string) AccredUnit {
		id := base + int64(len(units))
		u := AccredUnit{ID: id, CF: strconv.FormatInt(id-base+10000, 10), Name: name, Level: level, ParentID: parent.ID,
			Ancestors: append(append([]int64{}, parent.Ancestors...), parent.ID), Path: parent.Path + " " + name}
		units = append(units, u)
		return u
	}
	var facs, insts []AccredUnit
	for i := range faculties {
		facs = append(facs, add(2, units[0], fmt.Sprintf("FAC-%d", i)))
	}
	for i := range institutes {
		insts = append(insts, add(3, facs[i%len(facs)], fmt.Sprintf("INST-%d", i)))
	}
	for i := 0; len(units) < n; i++ {
		add(4, insts[i%len(insts)], fmt.Sprintf("LAB-%d", i))
	}
	var labs []int
	for i := range units {
		u := &units[i]
		u.LabelFR, u.LabelEN, u.EndDate = "Unité "+u.Name, "Unit "+u.Name, "0001-01-01T00:00:00Z"
		u.UnitType = map[string]any{"id": u.Level, "label": []string{"", "Ecole", "Faculté", "Institut", "Laboratoire"}[u.Level]}
		if u.Level == 4 {
			labs = append(labs, i)
		}
	}
	persons := make([]AccredPerson, 0, people)
	for i := range people {
		sciper := strconv.Itoa(300000 + i)
		lab := &units[labs[i%len(labs)]]
		role := "calco2.user.standard"
		if lab.Responsible == nil {
			role = "calco2.user.principal"
			canon := "person." + sciper
			lab.ResponsibleID = sciper
			lab.Responsible = &AccredResponsible{ID: sciper, Email: canon + "@example.org", Display: "Person " + sciper, Canon: canon}
		}
		persons = append(persons, AccredPerson{Sciper: sciper, Role: role, CF: lab.CF})
		person := map[string]any{"id": sciper, "display": "Person " + sciper, "email": "person." + sciper + "@example.org",
			"position": map[string]any{"labelen": "Scientist"}}
		auths := map[string]any{"count": 1, "authorizations": []any{map[string]any{
			"type": "right", "name": role, "state": "active", "persid": sciper, "accredunitid": lab.ID,
			"reason": map[string]any{"resource": map[string]any{"id": strconv.FormatInt(lab.ID, 10), "type": "unit", "name": lab.Name, "cf": lab.CF}},
		}}}
		for sub, v := range map[string]any{dirPersons: person, dirAuthorizations: auths} {
			b, err := json.Marshal(v)
			if err != nil {
				return nil, nil, err
			}
			if err := os.WriteFile(filepath.Join(dir, sub, sciper+".json"), b, 0o600); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := WriteAccredUnits(dir, units); err != nil {
		return nil, nil, err
	}
	return units, persons, nil
}

// ReadAccredUnits reads units.json of an Accred fixture directory.
func ReadAccredUnits(dir string) ([]AccredUnit, error) {
	b, err := os.ReadFile(filepath.Join(dir, "units.json"))
	if err != nil {
		return nil, err
	}
	var doc struct {
		Units []AccredUnit `json:"units"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	return doc.Units, nil
}
