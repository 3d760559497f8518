package main

import (
	"bufio"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// dockerfileEnv turns TestDockerfile on. The test compiles the whole binary
// a second time with the image's flags (-trimpath, CGO_ENABLED=0), which
// shares nothing with the test build's cache: on a cold cache and two cores
// that build alone can outlast `go test`'s default 10-minute timeout. So
// `go test ./...` skips it, and .ci/run runs it on its own afterwards with
// this variable set and its own timeout.
const dockerfileEnv = "RAMPART_TEST_DOCKERFILE"

// dockerfileBuildTimeout bounds the image build inside the test, so that a
// stuck build fails with a message instead of the test binary's panic.
const dockerfileBuildTimeout = 25 * time.Minute

// dockerfile is the repository's container recipe.
const dockerfile = "../../Dockerfile"

// dockerBuild is the Dockerfile's build step: the environment and the
// `go build` arguments of its RUN instruction, with ${VERSION} as given.
type dockerBuild struct {
	env  []string
	args []string
}

// parseDockerfile returns the build step and the ENV and USER values of
// the final stage. There is no Docker engine in CI, so this test runs the
// build step itself and checks what the image relies on.
func parseDockerfile(t *testing.T, version string) (dockerBuild, map[string]string, string) {
	t.Helper()
	f, err := os.Open(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Join continued lines into instructions.
	var instrs []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if s, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		instrs = append(instrs, cur.String())
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var build dockerBuild
	env := map[string]string{}
	user := ""
	envPair := regexp.MustCompile(`([A-Z_]+)=(\S+)`)
	for _, in := range instrs {
		switch {
		case strings.HasPrefix(in, "FROM "):
			env, user = map[string]string{}, "" // a new stage
		case strings.HasPrefix(in, "ENV "):
			for _, m := range envPair.FindAllStringSubmatch(in, -1) {
				env[m[1]] = m[2]
			}
		case strings.HasPrefix(in, "USER "):
			user = strings.TrimSpace(strings.TrimPrefix(in, "USER "))
		case strings.HasPrefix(in, "RUN ") && strings.Contains(in, " go build "):
			cmd := in[strings.Index(in, "CGO_ENABLED"):]
			cmd, _, _ = strings.Cut(cmd, "&&")
			cmd = strings.ReplaceAll(cmd, "${VERSION}", version)
			// Split on spaces, keeping the quoted -ldflags value whole.
			fields := regexp.MustCompile(`"[^"]*"|\S+`).FindAllString(cmd, -1)
			for i, fl := range fields {
				fl = strings.Trim(fl, `"`)
				switch {
				case i < 2 && strings.Contains(fl, "="):
					build.env = append(build.env, fl)
				case fl == "go" || fl == "build":
				default:
					build.args = append(build.args, fl)
				}
			}
		}
	}
	if build.args == nil {
		t.Fatal("Dockerfile: no RUN ... go build step")
	}
	return build, env, user
}

// TestDockerfile builds the binary exactly as the Dockerfile does and
// checks what the image depends on: a static executable (distroless/static
// has no libc), the version stamped by -ldflags, a non-root user, and ENV
// settings that rampart really reads. It runs when RAMPART_TEST_DOCKERFILE=1
// (as .ci/run sets it), with a timeout above the build's:
//
//	RAMPART_TEST_DOCKERFILE=1 go test -run '^TestDockerfile$' -timeout 30m ./cmd/rampart/
func TestDockerfile(t *testing.T) {
	if os.Getenv(dockerfileEnv) != "1" {
		t.Skip("builds the binary again with the image's flags; set " + dockerfileEnv + "=1 (.ci/run does)")
	}
	build, env, user := parseDockerfile(t, "v0.0.0-dockerfile-test")
	out := filepath.Join(t.TempDir(), "rampart")
	var args []string
	for i := 0; i < len(build.args); i++ {
		if build.args[i] == "-o" { // the image's path: build into the test's directory
			args = append(args, "-o", out)
			i++
			continue
		}
		args = append(args, build.args[i])
	}
	timeout := dockerfileBuildTimeout
	if d, ok := t.Deadline(); ok && time.Until(d)*9/10 < timeout {
		timeout = time.Until(d) * 9 / 10
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append([]string{"build"}, args...)...)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), build.env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v (timeout %v): %v\n%s", args, timeout, err, b)
	}

	ef, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("binary has a dynamic loader: distroless/static cannot run it")
		}
	}
	if libs, _ := ef.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("binary links %v", libs)
	}
	ef.Close()

	ver, err := exec.Command(out, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(ver), "v0.0.0-dockerfile-test") {
		t.Fatalf("version not stamped by the Dockerfile's -ldflags: %v %s", err, ver)
	}

	if user == "" || strings.HasPrefix(user, "0") || user == "root" {
		t.Fatalf("final stage runs as %q, want a non-root user", user)
	}
	if env["RAMPART_LISTEN"] == "" || env["RAMPART_DATA_DIR"] == "" {
		t.Fatalf("final stage ENV %v: want RAMPART_LISTEN and RAMPART_DATA_DIR", env)
	}
	// The image's ENV must be honoured: the effective configuration shows
	// the listen address and data directory it sets.
	pr := exec.Command(out, "config", "print")
	pr.Env = append(os.Environ(), "RAMPART_LISTEN="+env["RAMPART_LISTEN"], "RAMPART_DATA_DIR="+t.TempDir())
	cfg, err := pr.CombinedOutput()
	if err != nil {
		t.Fatalf("config print: %v\n%s", err, cfg)
	}
	if !strings.Contains(string(cfg), env["RAMPART_LISTEN"]) {
		t.Fatalf("RAMPART_LISTEN=%s not in the effective configuration:\n%s", env["RAMPART_LISTEN"], cfg)
	}
}
