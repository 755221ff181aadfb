// Command gatehouse runs the Gatehouse authentication service and its
// maintenance tasks:
//
//	gatehouse serve            apply pending migrations, then serve HTTP
//	gatehouse migrate [up]     apply pending migrations
//	gatehouse migrate status   list migrations and whether they are applied
//	gatehouse keys rotate      add a new signing key for access tokens
//	gatehouse version          print version, commit and build date
//
// Configuration comes from GATEHOUSE_* environment variables; see the
// README. This is the one package that knows every adapter: it wires them
// with plain constructors.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Set by the Makefile with -ldflags "-X main.version=...".
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		os.Exit(1)
	}
}

const usage = `usage: gatehouse <command>

commands:
  serve            apply pending migrations, then serve HTTP
  migrate [up]     apply pending migrations
  migrate status   list migrations and whether they are applied
  keys rotate      add a new signing key for access tokens
  version          print version, commit and build date`

// settingsHelp lists the settings for help: every variable loadConfig
// reads, so that the list cannot fall behind the code, and where their
// meanings and defaults are written down.
func settingsHelp() string {
	return "settings (environment variables; README.md, section Configuration, says\n" +
		"what each means and its default):\n  " + strings.Join(settingNames(), "\n  ")
}

// run runs the command args name, reading configuration through getenv and
// writing output (logs included) to stdout, until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("no command given\n%s", usage)
	}
	switch cmd, rest := args[0], args[1:]; {
	case cmd == "version" && len(rest) == 0:
		_, err := fmt.Fprintf(stdout, "gatehouse %s (commit %s, built %s)\n", version, commit, date)
		return err
	case cmd == "serve" && len(rest) == 0:
		return serve(ctx, getenv, stdout)
	case cmd == "migrate" && (len(rest) == 0 || len(rest) == 1 && rest[0] == "up"):
		return migrateUp(ctx, getenv, stdout)
	case cmd == "migrate" && len(rest) == 1 && rest[0] == "status":
		return migrateStatus(ctx, getenv, stdout)
	case cmd == "keys" && len(rest) == 1 && rest[0] == "rotate":
		return rotateKeys(ctx, getenv, stdout)
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		_, err := fmt.Fprintf(stdout, "%s\n\n%s\n", usage, settingsHelp())
		return err
	}
	return fmt.Errorf("unknown command %q\n%s", args, usage)
}
