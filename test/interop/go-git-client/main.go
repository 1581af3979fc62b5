// A minimal go-git command line for the foreign-client suite (test/interop):
//
//	clone <url> <dir> [--bare] [--depth N]
//	fetch <dir>
//	push <dir> [--force] <refspec>...
//
// Prints "ok" on success; on failure prints the error go-git returned and exits 1.
// Built in GOPATH mode against Debian's packaged go-git source.
package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
)

func run(args []string) error {
	if len(args) < 2 {
		return errors.New("usage: clone|fetch|push ...")
	}
	switch args[0] {
	case "clone":
		if len(args) < 3 {
			return errors.New("usage: clone <url> <dir> [--bare] [--depth N]")
		}
		bare := false
		opts := &git.CloneOptions{URL: args[1]}
		for i := 3; i < len(args); i++ {
			switch args[i] {
			case "--bare":
				bare = true
			case "--depth":
				i++
				if i >= len(args) {
					return errors.New("--depth needs a number")
				}
				n, err := strconv.Atoi(args[i])
				if err != nil {
					return err
				}
				opts.Depth = n
			default:
				return fmt.Errorf("unknown option %s", args[i])
			}
		}
		_, err := git.PlainClone(args[2], bare, opts)
		return err
	case "fetch":
		repo, err := git.PlainOpen(args[1])
		if err != nil {
			return err
		}
		err = repo.Fetch(&git.FetchOptions{RemoteName: "origin"})
		if errors.Is(err, git.NoErrAlreadyUpToDate) {
			return nil
		}
		return err
	case "push":
		repo, err := git.PlainOpen(args[1])
		if err != nil {
			return err
		}
		opts := &git.PushOptions{RemoteName: "origin"}
		for _, a := range args[2:] {
			if a == "--force" {
				opts.Force = true
				continue
			}
			opts.RefSpecs = append(opts.RefSpecs, config.RefSpec(a))
		}
		err = repo.Push(opts)
		if errors.Is(err, git.NoErrAlreadyUpToDate) {
			return nil
		}
		return err
	}
	return fmt.Errorf("unknown command %s", args[0])
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err.Error())
		os.Exit(1)
	}
	fmt.Println("ok")
}
