// Command dashcheck decodes Grafana dashboard JSON files strictly with the Grafana Foundation SDK's Go types
// (github.com/grafana/grafana-foundation-sdk/go, Apache-2.0): unknown keys, wrong types and missing required
// fields of the dashboard, its panels, their options, field config and queries (through the SDK's panel and
// query variant registries) are findings. Each finding is one JSON line {"file", "path", "error"} on stdout;
// the exit status is 1 when there is any, 2 when a file cannot be read.
//
// Usage: dashcheck FILE...; dashcheck --version prints the SDK version it was built with.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

const sdkModule = "github.com/grafana/grafana-foundation-sdk/go"

// Finding is one problem in one file: a dotted path into the document and the SDK's message.
type Finding struct {
	File  string `json:"file"`
	Path  string `json:"path"`
	Error string `json:"error"`
}

var unexpected = regexp.MustCompile(`^unexpected field '(.*)'$`)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Printf("dashcheck version %s (%s)\n", strings.TrimPrefix(sdkVersion(), "v"), sdkModule)
		return
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dashcheck DASHBOARD.json...")
		os.Exit(2)
	}
	plugins.RegisterDefaultPlugins()
	out := json.NewEncoder(os.Stdout)
	found := false
	for _, file := range os.Args[1:] {
		raw, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(os.Stderr, "dashcheck: %v\n", err)
			os.Exit(2)
		}
		for _, finding := range check(file, raw) {
			found = true
			_ = out.Encode(finding)
		}
	}
	if found {
		os.Exit(1)
	}
}

// sdkVersion is the SDK module version this binary was built with (from the build info, not a copy).
func sdkVersion() string {
	info, ok := debug.ReadBuildInfo()
	if ok {
		for _, dep := range info.Deps {
			if dep.Path == sdkModule {
				return dep.Version
			}
		}
	}
	return "unknown"
}

// check decodes one dashboard strictly, then each panel's fieldConfig (the SDK decodes a panel's
// fieldConfig leniently apart from its `custom` part, so it is decoded strictly here as well).
func check(file string, raw []byte) []Finding {
	findings := decode(file, "", func() error { return (&dashboard.Dashboard{}).UnmarshalJSONStrict(raw) })
	var doc struct {
		Panels []struct {
			FieldConfig json.RawMessage `json:"fieldConfig"`
			Panels      []struct {
				FieldConfig json.RawMessage `json:"fieldConfig"`
			} `json:"panels"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return sorted(findings)
	}
	for i, panel := range doc.Panels {
		where := "panels[" + strconv.Itoa(i) + "]"
		findings = append(findings, fieldConfig(file, where, panel.FieldConfig)...)
		for j, nested := range panel.Panels {
			findings = append(findings, fieldConfig(file, where+".panels["+strconv.Itoa(j)+"]", nested.FieldConfig)...)
		}
	}
	return sorted(findings)
}

// sorted orders findings by path and message: the SDK reports unknown fields in map order.
func sorted(findings []Finding) []Finding {
	sort.SliceStable(findings, func(i, j int) bool {
		a, b := findings[i], findings[j]
		return a.Path < b.Path || (a.Path == b.Path && a.Error < b.Error)
	})
	return findings
}

func fieldConfig(file, where string, raw json.RawMessage) []Finding {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return decode(file, where+".fieldConfig", func() error { return (&dashboard.FieldConfigSource{}).UnmarshalJSONStrict(raw) })
}

// decode runs one strict unmarshal and turns its errors into findings. On success the SDK returns a
// non-nil error holding an empty cog.BuildErrors list: that is no finding.
func decode(file, prefix string, unmarshal func() error) []Finding {
	err := unmarshal()
	if err == nil {
		return nil
	}
	var list cog.BuildErrors
	if !errors.As(err, &list) {
		return []Finding{{File: file, Path: join(prefix, ""), Error: err.Error()}}
	}
	findings := make([]Finding, 0, len(list))
	for _, one := range list {
		findings = append(findings, finding(file, prefix, one))
	}
	return findings
}

// finding names the key itself for an unknown field: the SDK reports "panels[3].Panel: unexpected field
// 'span'", this reports path "panels[3].span", error "unknown field".
func finding(file, prefix string, err *cog.BuildError) Finding {
	path, message := err.Path, err.Message
	if match := unexpected.FindStringSubmatch(message); match != nil {
		parts := strings.Split(path, ".")
		if last := parts[len(parts)-1]; last != "" && last[0] >= 'A' && last[0] <= 'Z' {
			parts = parts[:len(parts)-1]
		}
		path, message = strings.Join(append(parts, match[1]), "."), "unknown field"
	}
	return Finding{File: file, Path: join(prefix, path), Error: message}
}

func join(prefix, path string) string {
	switch {
	case prefix == "":
		return path
	case path == "":
		return prefix
	}
	return prefix + "." + path
}
