package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The full demo embeds the whole sign benchmark (2,578 photos), so it runs
// once per test binary; the tests below read its JSON and render its human
// form from the same result.
var (
	demoOnce               sync.Once
	demoCode               int
	demoStdout, demoStderr string
)

var (
	shippedModel = filepath.FromSlash("../../testdata/models/signs.sgn")
	shippedSigns = filepath.FromSlash("../../testdata/signs")
)

const (
	demoShots      = 3     // the default -shots
	demoTestPhotos = 6 - 3 // photos of the sign not enrolled
)

// fullDemo runs `signet demo -json` with every default, as a newcomer
// would: the model and data are found by walking up from this folder.
func fullDemo(t *testing.T) (*demoResult, map[string]any) {
	t.Helper()
	demoOnce.Do(func() {
		var out, errb bytes.Buffer
		demoCode = run([]string{"demo", "-json"}, &out, &errb)
		demoStdout, demoStderr = out.String(), errb.String()
	})
	wantCode(t, demoCode, exitOK, demoStderr)
	if demoStderr != "" {
		t.Errorf("stderr not empty off a terminal:\n%s", demoStderr)
	}
	var res demoResult
	dec := json.NewDecoder(strings.NewReader(demoStdout))
	dec.DisallowUnknownFields()
	must(t, dec.Decode(&res))
	if dec.More() {
		t.Fatal("more than one JSON value on stdout")
	}
	var raw map[string]any
	must(t, json.Unmarshal([]byte(demoStdout), &raw))
	return &res, raw
}

func TestDemoJSON(t *testing.T) {
	res, raw := fullDemo(t)
	for _, k := range []string{"model", "fingerprint", "data", "images", "embed_seconds", "base", "sign", "before",
		"held_out_before", "enrolment", "after", "held_out_after", "base_check", "accuracy", "seconds"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON has no %q", k)
		}
	}
	if rep, _ := raw["enrolment"].(map[string]any)["report"].(map[string]any); rep == nil || rep["negative_flip_rate"] == nil || rep["nearest"] == nil {
		t.Errorf("enrolment.report missing or incomplete: %v", raw["enrolment"])
	}

	wantEqual(t, res.Model, shippedModel, "model found from the test folder")
	wantEqual(t, res.Data, shippedSigns, "data found from the test folder")
	wantEqual(t, res.Sign, demoDefaultSign, "default sign")
	wantEqual(t, res.Dim, 128, "dim")
	wantEqual(t, [3]int{res.BaseClasses, res.NovelClasses, res.Images}, [3]int{110, 220, 110*4 + 220*6}, "classes and images")
	b := res.Base
	wantEqual(t, [4]int{b.Classes, b.Exemplars, b.Training, b.HeldOut}, [4]int{110, 440, 330, 110}, "base gallery")
	wantEqual(t, b.Background, 219*6, "background photos: every novel sign but the enrolled one")
	if !(b.MinClassThreshold > 0 && b.MinClassThreshold <= b.MaxClassThreshold && b.MaxClassThreshold <= 1) {
		t.Errorf("class thresholds %v..%v", b.MinClassThreshold, b.MaxClassThreshold)
	}

	// Enrolled photos are the first -shots ones; the shown photo is not
	// among them.
	en := res.Enrolment
	wantEqual(t, en.Photos, []string{"novel/" + demoDefaultSign + "/00.png", "novel/" + demoDefaultSign + "/01.png", "novel/" + demoDefaultSign + "/02.png"}, "enrolled photos")
	wantEqual(t, res.Before.Source, "novel/"+demoDefaultSign+"/03.png", "shown photo")
	wantEqual(t, res.After.Source, res.Before.Source, "same photo after")

	// Before: Unknown, and most test photos too.
	if !res.Before.Unknown || res.Before.Label != "" || res.Before.Score >= res.Before.Threshold {
		t.Errorf("before enrolment: %+v, want unknown below threshold", res.Before)
	}
	if len(res.Before.Top) != demoTop || res.Before.Top[0].Score != res.Before.Score {
		t.Errorf("before enrolment: top candidates %+v", res.Before.Top)
	}
	hb := res.HeldOutBefore
	if hb.Photos != demoTestPhotos || hb.Recognised != 0 || hb.Unknown < hb.Photos*3/4 {
		t.Errorf("test photos before enrolment: %+v, want %d photos, none recognised, most unknown", hb, demoTestPhotos)
	}

	// The report, committed within budget.
	rep := en.Report
	if rep == nil {
		t.Fatal("no report")
	}
	if !en.Committed || en.Forced || en.ClassID == 0 || rep.Label != demoDefaultSign || rep.NewExemplars != demoShots {
		t.Errorf("enrolment %+v", en)
	}
	if rep.ValidationSamples != b.HeldOut || rep.OverBudget || len(rep.Nearest) == 0 || rep.LeaveOneOutSamples != demoShots {
		t.Errorf("report %+v", rep)
	}
	if rep.AppliedThreshold != rep.SuggestedThreshold || rep.TargetFAR != b.TargetFAR {
		t.Errorf("applied threshold %v, suggested %v, FAR %v vs %v", rep.AppliedThreshold, rep.SuggestedThreshold, rep.TargetFAR, b.TargetFAR)
	}

	// After: recognised, and so are most test photos.
	if res.After.Unknown || res.After.Label != demoDefaultSign || res.After.Top[0].Label != demoDefaultSign {
		t.Errorf("after enrolment: %+v, want %s", res.After, demoDefaultSign)
	}
	if res.After.Threshold != rep.AppliedThreshold {
		t.Errorf("after enrolment the sign is held to %v, the report applied %v", res.After.Threshold, rep.AppliedThreshold)
	}
	ha := res.HeldOutAfter
	if ha.Photos != hb.Photos || ha.Recognised < ha.Photos*3/4 || ha.Recognised+ha.Unknown+sum(ha.Wrong) != ha.Photos {
		t.Errorf("test photos after enrolment: %+v", ha)
	}

	// The base sign next to the newcomer is still recognised as before.
	bc := res.BaseCheck
	if bc.Class != rep.Nearest[0].Label || len(bc.Before) == 0 || len(bc.Before) != len(bc.After) {
		t.Fatalf("base check %+v, nearest %v", bc, rep.Nearest[0])
	}
	for i := range bc.After {
		if bc.Before[i].Label != bc.After[i].Label {
			t.Errorf("%s: %q before, %q after", bc.After[i].Source, bc.Before[i].Label, bc.After[i].Label)
		}
	}
	if bc.After[0].Label != bc.Class {
		t.Errorf("%s: %+v, want %s", bc.After[0].Source, bc.After[0], bc.Class)
	}

	// The accuracy table agrees with the report, which computes the same
	// accuracies another way (Plan's decision rule, not MatchInto).
	a := res.Accuracy
	wantEqual(t, a.BaseSamples, rep.ValidationSamples, "base samples")
	if a.BaseBefore != rep.AccuracyBefore || a.BaseAfter != rep.AccuracyAfter {
		t.Errorf("base accuracy %v → %v, report %v → %v", a.BaseBefore, a.BaseAfter, rep.AccuracyBefore, rep.AccuracyAfter)
	}
	if d := (a.BaseBefore - a.BaseAfter) * float64(a.BaseSamples); math.Abs(d-float64(rep.NegativeFlips-rep.PositiveFlips)) > 1e-9 {
		t.Errorf("accuracy change %v samples, flips %d−%d", d, rep.NegativeFlips, rep.PositiveFlips)
	}
	if a.BaseBefore < 0.85 {
		t.Errorf("base accuracy %v", a.BaseBefore)
	}
	wantEqual(t, a.SignRecallAfter, float64(ha.Recognised)/float64(ha.Photos), "recall after")
	wantEqual(t, a.SignUnknownBefore, float64(hb.Unknown)/float64(hb.Photos), "unknown before")
	if len(a.Episodes) != 3 {
		t.Fatalf("episodes %+v", a.Episodes)
	}
	for i, want := range []demoEpisodes{{Ways: 5, Shots: 1}, {Ways: 5, Shots: 5}, {Ways: 5, Shots: 5, UnknownWays: 5}} {
		ep := a.Episodes[i]
		if ep.Ways != want.Ways || ep.Shots != want.Shots || ep.UnknownWays != want.UnknownWays || ep.Episodes != 500 || ep.Seed != 2026 || ep.Queries != min(demoQueries, 6-want.Shots) {
			t.Errorf("episode row %d: %+v", i, ep)
		}
		// The model card measured 99.7% (1-shot) and 99.8% (5-shot) with
		// PyTorch on the same photos.
		if !(ep.Accuracy > 0.95 && ep.Accuracy <= 1 && ep.Accuracy95 > 0 && ep.Accuracy95 < 0.02) {
			t.Errorf("episode row %d: accuracy %v ± %v", i, ep.Accuracy, ep.Accuracy95)
		}
		if (ep.UnknownWays > 0) != (ep.AUROC > 0.9 && ep.AUROC <= 1) {
			t.Errorf("episode row %d: AUROC %v", i, ep.AUROC)
		}
	}
	if a.Episodes[1].Accuracy < a.Episodes[0].Accuracy {
		t.Errorf("5 shots (%v) worse than 1 (%v)", a.Episodes[1].Accuracy, a.Episodes[0].Accuracy)
	}
	if !(res.EmbedSeconds > 0 && res.Seconds >= res.EmbedSeconds) {
		t.Errorf("times: embed %v, total %v", res.EmbedSeconds, res.Seconds)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestDemoHuman renders the full demo's result as the command prints it.
func TestDemoHuman(t *testing.T) {
	res, _ := fullDemo(t)
	var out bytes.Buffer
	must(t, printDemo(&env{stdout: &out, stderr: &out}, res))
	s := out.String()
	sections := []string{"== 1. Encoder and data", "== 2. Gallery of base signs", "== 3. A sign the gallery does not know: " + demoDefaultSign,
		"== 4. Enrol it from 3 photos", "== 5. After enrolment", "== 6. Accuracy, measured in this run"}
	at := -1
	for _, h := range sections {
		i := strings.Index(s, h)
		if i <= at {
			t.Fatalf("section %q missing or out of order:\n%s", h, s)
		}
		at = i
	}
	part := func(i int) string {
		lo := strings.Index(s, sections[i])
		if i+1 == len(sections) {
			return s[lo:]
		}
		return s[lo:strings.Index(s, sections[i+1])]
	}
	wantContains(t, part(0), "110 base signs")
	wantContains(t, part(1), "enrolled 110 base signs: 440 photos, 330 in the prototypes")
	wantContains(t, part(2), "photo novel/"+demoDefaultSign+"/03.png -> UNKNOWN (below threshold)")
	wantContains(t, part(2), "  1     "+res.Before.Top[0].Label)
	// The report exactly as `signet enroll` prints it.
	wantContains(t, part(3), res.Enrolment.Report.String())
	for _, m := range []string{"accuracy before", "accuracy after", "negative flip rate", "Nearest existing classes", "newcomer leave-one-out accuracy", "applied threshold"} {
		wantContains(t, part(3), m)
	}
	wantContains(t, part(4), "photo novel/"+demoDefaultSign+"/03.png -> "+demoDefaultSign+"; best score")
	wantContains(t, part(4), "its nearest base sign, "+res.BaseCheck.Class)
	wantEqual(t, rowAfter(t, part(5), "base signs recognised (held-out photos)"), []string{"110", pct(res.Accuracy.BaseBefore), pct(res.Accuracy.BaseAfter)}, "base row")
	wantEqual(t, rowAfter(t, part(5), demoDefaultSign+" recognised (test photos)"), []string{"3", "0.00%", pct(res.Accuracy.SignRecallAfter)}, "sign row")
	wantContains(t, part(5), "5-way 1-shot")
	wantContains(t, part(5), "5-way 5-shot, 5 unknown classes")
	if strings.Contains(s, "\r") || strings.Contains(s, "NaN") {
		t.Errorf("output has a carriage return or NaN:\n%s", s)
	}
}

// rowAfter returns the cells of the table row that starts with name.
func rowAfter(t *testing.T, out, name string) []string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, name+"  "); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatalf("no table row %q in:\n%s", name, out)
	return nil
}

// smallSigns copies a few classes of the benchmark, so a complete run of
// the command with every non-default flag stays cheap.
func smallSigns(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for part, n := range map[string]int{demoBaseDir: 12, demoNovelDir: 11} {
		ents, err := os.ReadDir(filepath.Join(shippedSigns, part))
		must(t, err)
		for _, e := range ents[:n] {
			src := filepath.Join(shippedSigns, part, e.Name())
			files, err := os.ReadDir(src)
			must(t, err)
			must(t, os.MkdirAll(filepath.Join(dir, part, e.Name()), 0o755))
			for _, f := range files {
				b, err := os.ReadFile(filepath.Join(src, f.Name()))
				must(t, err)
				must(t, os.WriteFile(filepath.Join(dir, part, e.Name(), f.Name()), b, 0o644))
			}
		}
	}
	return dir
}

func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	must(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		out = append(out, p)
		return err
	}))
	return out
}

// TestDemoFlags runs the command end to end in human form on a small copy
// of the data, with another sign and fewer shots, and checks that it wrote
// nothing.
// TestDemoInt8 runs the demo on the int8 encoder found by -int8.
func TestDemoInt8(t *testing.T) {
	data := smallSigns(t)
	res := runJSON[demoResult](t, "demo", "-int8", "-data", data, "-json", "-episodes", "20")
	wantEqual(t, filepath.Base(res.Model), "signs-int8.sgn", "model found by -int8")
	if !strings.HasSuffix(res.ModelName, "int8") || res.Dim != 128 {
		t.Errorf("model %q, %d-d", res.ModelName, res.Dim)
	}
	if !res.Enrolment.Committed || len(res.Accuracy.Episodes) == 0 {
		t.Errorf("int8 demo: enrolment %+v, %d accuracy rows", res.Enrolment, len(res.Accuracy.Episodes))
	}
}

func TestDemoFlags(t *testing.T) {
	data := smallSigns(t)
	novel, err := os.ReadDir(filepath.Join(data, demoNovelDir))
	must(t, err)
	sign := novel[4].Name()
	before, wd := listTree(t, data), listTree(t, ".")
	code, out, errs := runCLI(t, "demo", "-model", shippedModel, "-data", data, "-sign", sign, "-shots", "2", "-episodes", "40", "-seed", "7")
	wantCode(t, code, exitOK, errs)
	wantEqual(t, errs, "", "stderr")
	wantContains(t, out, "data      "+data+": 12 base signs")
	wantContains(t, out, "embedded  "+strconv.Itoa(12*4+11*6)+" photos")
	wantContains(t, out, "== 3. A sign the gallery does not know: "+sign)
	wantContains(t, out, "== 4. Enrol it from 2 photos")
	wantContains(t, out, "photos: novel/"+sign+"/00.png, novel/"+sign+"/01.png\n")
	wantContains(t, out, "photo novel/"+sign+"/02.png -> ")
	wantContains(t, out, `Enrolment plan: "`+sign+`" (new class), 2 exemplars`)
	wantContains(t, out, "impostors: the other base signs and 60 photos of other never-seen signs")
	wantEqual(t, rowAfter(t, out, "base signs recognised (held-out photos)")[0], "12", "held-out base photos")
	wantEqual(t, rowAfter(t, out, "5-way 5-shot, 5 unknown classes")[0], "40", "episodes")
	wantEqual(t, listTree(t, data), before, "data folder after the demo")
	wantEqual(t, listTree(t, "."), wd, "working folder after the demo")

	// Six novel classes leave one for the unknown side of the open-set row.
	for _, e := range novel[6:] {
		must(t, os.RemoveAll(filepath.Join(data, demoNovelDir, e.Name())))
	}
	res := runJSON[demoResult](t, "demo", "-model", shippedModel, "-data", data, "-json", "-episodes", "20", "-background=false")
	wantEqual(t, res.Sign, novel[0].Name(), "default sign when the data lack "+demoDefaultSign)
	wantEqual(t, res.Base.Background, 0, "background photos with -background=false")
	var rows [][3]int
	for _, ep := range res.Accuracy.Episodes {
		rows = append(rows, [3]int{ep.Ways, ep.Shots, ep.UnknownWays})
	}
	wantEqual(t, rows, [][3]int{{5, 1, 0}, {5, 5, 0}, {5, 5, 1}}, "episode rows on six classes")
}

func TestDemoErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-sign", "no-such-sign"}, exitUsage, `no novel sign "no-such-sign"`},
		{[]string{"-sign", "diamond-glyphicons.e169-mirror"}, exitUsage, "is a base sign"},
		{[]string{"-shots", "20"}, exitUsage, "leaves no test photo"},
		{[]string{"-shots", "0"}, exitUsage, "-shots must be at least 1"},
		{[]string{"-far", "1"}, exitUsage, "-far must be in (0, 1)"},
		{[]string{"-episodes", "0"}, exitUsage, "-episodes"},
		{[]string{"extra"}, exitUsage, "unexpected arguments"},
		{[]string{"-model", filepath.Join(t.TempDir(), "none.sgn")}, exitRuntime, "none.sgn"},
		{[]string{"-data", t.TempDir()}, exitRuntime, "base-val"},
		{[]string{"-int8", "-model", "x.sgn"}, exitUsage, "-int8 and -model name two models"},
	} {
		code, out, errs := runCLI(t, append([]string{"demo"}, c.args...)...)
		wantCode(t, code, c.code, errs)
		wantContains(t, errs, c.want)
		wantEqual(t, out, "", "stdout of a failed demo")
	}

	// Outside the repository the defaults cannot be found.
	model, err := filepath.Abs(shippedModel)
	must(t, err)
	t.Chdir(t.TempDir())
	code, _, errs := runCLI(t, "demo")
	wantCode(t, code, exitUsage, errs)
	wantContains(t, errs, "run the demo from the signet repository root")
	wantContains(t, errs, "-model FILE")
	code, _, errs = runCLI(t, "demo", "-model", model)
	wantCode(t, code, exitUsage, errs)
	wantContains(t, errs, "-data DIR")
}

func TestFindUp(t *testing.T) {
	got, err := findUp(demoModelRel)
	must(t, err)
	wantEqual(t, got, shippedModel, "findUp from tools/signet")
	if _, err := findUp("no/such/file/anywhere.sgn"); err == nil {
		t.Error("findUp found a file that does not exist")
	}
}
