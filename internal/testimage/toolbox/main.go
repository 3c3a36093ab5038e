// Command toolbox is the few programs that kubectl runs inside a container
// for `kubectl cp`, for images that have no shell and no coreutils (the
// test images are one static Go binary each). It is one binary that acts
// as the program it is called as, busybox-style, and adds no shell:
//
//	tar  create, extract and list archives as kubectl cp invokes GNU tar:
//	     tar cf - PATH...                      (copy from a pod)
//	     tar -xmf - [-C DIR]                   (copy to a pod)
//	     tar --no-same-permissions --no-same-owner -xmf - [-C DIR]
//	     and tar tf -, -v, -C DIR, an archive file instead of "-".
//	     Regular files, directories, symbolic and hard links; member names
//	     lose a leading "/" and may not climb out of the directory with
//	     "..". Exit 0, or 2 after an error, as GNU tar.
//	test test -d PATH, -f PATH, -e PATH: exit 0 when true, 1 when not,
//	     2 for a bad use (kubectl cp asks test -d whether the destination
//	     is a directory).
//
// testimage.Toolbox puts it in an image.
package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// run runs the program args[0] names (its base name) with args[1:].
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := filepath.Base(args[0])
	switch name {
	case "tar":
		return tarMain(args[1:], stdin, stdout, stderr)
	case "test":
		return testMain(args[1:], stderr)
	case "toolbox":
		if len(args) > 1 {
			return run(args[1:], stdin, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "toolbox: %q is not one of: tar test\n", name)
	return 2
}

func testMain(args []string, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "test: usage: test -d|-e|-f PATH")
		return 2
	}
	st, err := os.Stat(args[1])
	var ok bool
	switch args[0] {
	case "-e":
		ok = err == nil
	case "-d":
		ok = err == nil && st.IsDir()
	case "-f":
		ok = err == nil && st.Mode().IsRegular()
	default:
		fmt.Fprintf(stderr, "test: %s: unknown operator\n", args[0])
		return 2
	}
	if ok {
		return 0
	}
	return 1
}

// tarOptions is what a tar command line asks for.
type tarOptions struct {
	mode      byte   // 'c', 'x' or 't'
	file      string // the archive; "-" is stdin or stdout
	dir       string // -C: where to work
	keepMtime bool   // not -m: extracted files keep the archive's times
	verbose   bool
	samePerms bool // not --no-same-permissions
	sameOwner bool // not --no-same-owner (as root)
	paths     []string
}

// parseTar reads tar's options: a first argument without a dash is a
// bundle of letters (old style, "cf"), whose f and C take the following
// arguments in turn; "-xmf" is a bundle whose f takes the rest of the
// bundle or the next argument; long options stand alone.
func parseTar(args []string) (tarOptions, error) {
	root := os.Geteuid() == 0 // as GNU tar: root keeps owners and permissions
	o := tarOptions{file: "-", keepMtime: true, samePerms: root, sameOwner: root}
	letter := func(c byte, value func() (string, error)) error {
		switch c {
		case 'c', 'x', 't':
			if o.mode != 0 && o.mode != c {
				return errors.New("you may not specify more than one of -c, -x, -t")
			}
			o.mode = c
		case 'm':
			o.keepMtime = false
		case 'v':
			o.verbose = true
		case 'p':
			o.samePerms = true
		case 'o':
			o.sameOwner = false
		case 'f', 'C':
			v, err := value()
			if err != nil {
				return err
			}
			if c == 'f' {
				o.file = v
			} else {
				o.dir = v
			}
		default:
			return fmt.Errorf("invalid option -- '%c'", c)
		}
		return nil
	}
	i := 0
	next := func() (string, error) {
		if i >= len(args) {
			return "", errors.New("option requires an argument")
		}
		i++
		return args[i-1], nil
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		bundle := args[0]
		i = 1
		for j := 0; j < len(bundle); j++ {
			if err := letter(bundle[j], next); err != nil {
				return o, err
			}
		}
	}
	for i < len(args) {
		a := args[i]
		i++
		switch {
		case a == "--no-same-permissions":
			o.samePerms = false
		case a == "--same-permissions", a == "--preserve-permissions":
			o.samePerms = true
		case a == "--no-same-owner":
			o.sameOwner = false
		case a == "--same-owner":
			o.sameOwner = true
		case a == "--touch":
			o.keepMtime = false
		case strings.HasPrefix(a, "--directory="):
			o.dir = strings.TrimPrefix(a, "--directory=")
		case strings.HasPrefix(a, "--file="):
			o.file = strings.TrimPrefix(a, "--file=")
		case strings.HasPrefix(a, "--"):
			return o, fmt.Errorf("unrecognized option '%s'", a)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			bundle := a[1:]
			for j := 0; j < len(bundle); j++ {
				c := bundle[j]
				rest := bundle[j+1:]
				value := func() (string, error) {
					if rest != "" {
						j = len(bundle)
						return rest, nil
					}
					return next()
				}
				if err := letter(c, value); err != nil {
					return o, err
				}
			}
		default:
			o.paths = append(o.paths, a)
		}
	}
	if o.mode == 0 {
		return o, errors.New("you must specify one of the -c, -x, -t options")
	}
	if o.mode == 'c' && len(o.paths) == 0 {
		return o, errors.New("cowardly refusing to create an empty archive")
	}
	return o, nil
}

func tarMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseTar(args)
	if err != nil {
		fmt.Fprintf(stderr, "tar: %v\n", err)
		return 2
	}
	var failed bool
	switch o.mode {
	case 'c':
		out := stdout
		if o.file != "-" {
			f, err := os.Create(o.file)
			if err != nil {
				fmt.Fprintf(stderr, "tar: %v\n", err)
				return 2
			}
			defer f.Close()
			out = f
		}
		failed, err = create(o, out, stderr)
	case 'x', 't':
		in := stdin
		if o.file != "-" {
			f, err := os.Open(o.file)
			if err != nil {
				fmt.Fprintf(stderr, "tar: %v\n", err)
				return 2
			}
			defer f.Close()
			in = f
		}
		failed, err = extract(o, in, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tar: %v\n", err)
		return 2
	}
	if failed {
		fmt.Fprintln(stderr, "tar: Exiting with failure status due to previous errors")
		return 2
	}
	return 0
}

// memberName is the archive name of a path: cleaned, without a leading
// "/" (GNU tar says so once on stderr).
func memberName(p string, warned *bool, stderr io.Writer) string {
	clean := path.Clean(filepath.ToSlash(p))
	if strings.HasPrefix(clean, "/") {
		if !*warned {
			fmt.Fprintln(stderr, "tar: Removing leading `/' from member names")
			*warned = true
		}
		clean = strings.TrimLeft(clean, "/")
		if clean == "" {
			clean = "."
		}
	}
	return clean
}

// create writes the paths, recursively, as an archive to out; it reports
// whether some could not be read (tar goes on past them).
func create(o tarOptions, out, stderr io.Writer) (bool, error) {
	tw := tar.NewWriter(out)
	failed := false
	warned := false
	inodes := map[[2]uint64]string{} // hard links: the first name of an inode
	var add func(fsPath, name string) error
	add = func(fsPath, name string) error {
		st, err := os.Lstat(fsPath)
		if err != nil {
			fmt.Fprintf(stderr, "tar: %s: Cannot stat: %v\n", name, errors.Unwrap(err))
			failed = true
			return nil
		}
		link := ""
		if st.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(fsPath); err != nil {
				fmt.Fprintf(stderr, "tar: %s: Cannot readlink: %v\n", name, err)
				failed = true
				return nil
			}
		}
		h, err := tar.FileInfoHeader(st, link)
		if err != nil {
			fmt.Fprintf(stderr, "tar: %s: %v\n", name, err)
			failed = true
			return nil
		}
		h.Name = name
		h.Format = tar.FormatPAX
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			h.Uid, h.Gid = int(sys.Uid), int(sys.Gid)
			if st.Mode().IsRegular() && sys.Nlink > 1 {
				key := [2]uint64{uint64(sys.Dev), sys.Ino}
				if first, ok := inodes[key]; ok {
					h.Typeflag, h.Linkname, h.Size = tar.TypeLink, first, 0
				} else {
					inodes[key] = name
				}
			}
		}
		h.Uname, h.Gname = "", ""
		if st.IsDir() && !strings.HasSuffix(h.Name, "/") {
			h.Name += "/"
		}
		if o.verbose {
			fmt.Fprintln(stderr, h.Name)
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		switch {
		case h.Typeflag == tar.TypeReg:
			f, err := os.Open(fsPath)
			if err != nil {
				return fmt.Errorf("%s: Cannot open: %v", name, err)
			}
			_, err = io.CopyN(tw, f, h.Size)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: Read error: %v", name, err)
			}
		case st.IsDir():
			entries, err := os.ReadDir(fsPath)
			if err != nil {
				fmt.Fprintf(stderr, "tar: %s: Cannot open: %v\n", name, err)
				failed = true
				return nil
			}
			names := make([]string, 0, len(entries))
			for _, e := range entries {
				names = append(names, e.Name())
			}
			sort.Strings(names)
			for _, n := range names {
				child := n
				if name != "." {
					child = path.Join(name, n)
				}
				if err := add(filepath.Join(fsPath, n), child); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, p := range o.paths {
		fsPath := p
		if o.dir != "" && !filepath.IsAbs(p) {
			fsPath = filepath.Join(o.dir, p)
		}
		if err := add(fsPath, memberName(p, &warned, stderr)); err != nil {
			return failed, err
		}
	}
	return failed, tw.Close()
}

// extract reads an archive from in and writes its members under o.dir
// (or lists them, for t); it reports whether some could not be written.
func extract(o tarOptions, in io.Reader, stdout, stderr io.Writer) (bool, error) {
	root := o.dir
	if root == "" {
		root = "."
	}
	umask := syscall.Umask(0)
	syscall.Umask(umask)
	tr := tar.NewReader(in)
	failed := false
	warned := false
	type dirTimes struct {
		path         string
		atime, mtime time.Time
	}
	var dirs []dirTimes // set after their contents are written
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return failed, fmt.Errorf("this does not look like a tar archive: %v", err)
		}
		name := memberName(h.Name, &warned, stderr)
		if o.mode == 't' {
			fmt.Fprintln(stdout, h.Name)
			continue
		}
		if name == ".." || strings.HasPrefix(name, "../") {
			fmt.Fprintf(stderr, "tar: %s: Member name contains '..'\n", h.Name)
			failed = true
			continue
		}
		if o.verbose {
			fmt.Fprintln(stdout, h.Name)
		}
		target := filepath.Join(root, filepath.FromSlash(name))
		mode := fs.FileMode(h.Mode).Perm() | fs.FileMode(h.Mode)&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
		if !o.samePerms {
			mode &^= fs.FileMode(umask)
		}
		if err := writeMember(tr, h, target, root, mode); err != nil {
			fmt.Fprintf(stderr, "tar: %s: %v\n", h.Name, err)
			failed = true
			continue
		}
		if o.sameOwner {
			_ = os.Lchown(target, h.Uid, h.Gid)
		}
		if h.Typeflag != tar.TypeSymlink {
			_ = os.Chmod(target, mode)
		}
		if o.keepMtime && h.Typeflag != tar.TypeSymlink && h.Typeflag != tar.TypeLink {
			if h.Typeflag == tar.TypeDir {
				dirs = append(dirs, dirTimes{target, h.AccessTime, h.ModTime})
			} else {
				_ = os.Chtimes(target, h.AccessTime, h.ModTime)
			}
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = os.Chtimes(dirs[i].path, dirs[i].atime, dirs[i].mtime)
	}
	return failed, nil
}

// writeMember writes one archive member at target.
func writeMember(tr *tar.Reader, h *tar.Header, target, root string, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return fmt.Errorf("Cannot mkdir: %v", err)
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if err := os.MkdirAll(target, mode|0o700); err != nil {
			return fmt.Errorf("Cannot mkdir: %v", err)
		}
	case tar.TypeReg, tar.TypeRegA:
		_ = removeNonDir(target)
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode|0o600)
		if err != nil {
			return fmt.Errorf("Cannot open: %v", err)
		}
		if _, err := io.Copy(f, tr); err != nil {
			f.Close()
			return fmt.Errorf("Cannot write: %v", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("Cannot write: %v", err)
		}
	case tar.TypeSymlink:
		_ = removeNonDir(target)
		if err := os.Symlink(h.Linkname, target); err != nil {
			return fmt.Errorf("Cannot create symlink to %q: %v", h.Linkname, err)
		}
	case tar.TypeLink:
		old := path.Clean(filepath.ToSlash(h.Linkname))
		old = strings.TrimLeft(old, "/")
		if old == ".." || strings.HasPrefix(old, "../") {
			return fmt.Errorf("Cannot hard link to %q: it is outside the archive", h.Linkname)
		}
		_ = removeNonDir(target)
		if err := os.Link(filepath.Join(root, filepath.FromSlash(old)), target); err != nil {
			return fmt.Errorf("Cannot hard link to %q: %v", h.Linkname, err)
		}
	default:
		return fmt.Errorf("member type %q is not supported", string(h.Typeflag))
	}
	return nil
}

// removeNonDir removes what is at p unless it is a directory, so a file
// replaces a file or link as tar does.
func removeNonDir(p string) error {
	st, err := os.Lstat(p)
	if err != nil || st.IsDir() {
		return err
	}
	return os.Remove(p)
}
