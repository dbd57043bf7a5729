// The PHP document-root router: URL path → SCRIPT_NAME, PATH_INFO,
// SCRIPT_FILENAME as nginx's PHP location computes them, kept inside the
// document root.

package session

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Route is where the PHP router sends a request.
type Route struct {
	// URI is DOCUMENT_URI: nginx's $uri after the index and the front
	// controller rewrites.
	URI string `json:"uri"`
	// ScriptName and PathInfo are the two parts of URI split by the split
	// regexp (all of URI and "" when it does not match).
	ScriptName string `json:"script_name"`
	PathInfo   string `json:"path_info"`
	// ScriptFilename is DocumentRoot followed by ScriptName.
	ScriptFilename string `json:"script_filename"`
	DocumentRoot   string `json:"document_root"`
	// Index says the index file was appended to a directory URL; Front
	// says the request went to the front controller.
	Index bool `json:"index,omitempty"`
	Front bool `json:"front,omitempty"`
}

// RoutePHP routes in as nginx's PHP location does (see HTTPInput):
//
//   - the URL path is percent-decoded and normalized (slashes merged, "."
//     and ".." resolved; ".." above the root is refused);
//   - a path the PHP location does not match and that ends in "/" gets the
//     index file, which must exist (nginx answers 403 or 404 otherwise);
//     "/x.php/" is matched by the location and keeps its slash;
//   - the split regexp cuts the path into SCRIPT_NAME and PATH_INFO;
//   - SCRIPT_FILENAME is the document root followed by SCRIPT_NAME;
//   - with FrontController, a script that is not a regular file is
//     replaced by /index.php (PATH_INFO empty).
//
// Like nginx, it does not ask whether the script exists otherwise: php-fpm
// answers "Primary script unknown" for a missing one.
//
// Security, beyond nginx: SCRIPT_FILENAME must lie inside the document root
// by path components (/srv/www does not admit /srv/www-evil/x.php, which a
// split regexp could otherwise produce); a path holding CR or LF is refused
// (the CVE-2019-11043 trick: a %0a stops the split regexp and php-fpm's
// PATH_INFO arithmetic underflows; nginx itself only fails to match its
// location), as is NUL; so are the tricks that become "..", "/" or "\\" in
// a layer that decodes twice, folds Unicode or runs on Windows (see
// pathTrick), while other non-ASCII is allowed, as nginx allows it; and when
// the script exists and resolves through symlinks to a file outside the
// document root it is refused unless AllowSymlinks.
func RoutePHP(in HTTPInput) (Route, error) {
	rt, err := NewRouter(in)
	if err != nil {
		return Route{}, err
	}
	return rt.Route(in.URL)
}

// routerKey is the context key of the Router that Router.BuildHTTP hands to
// the chain.
type routerKey struct{}

// lazyRouter returns the Router that routes a request mapped from in: the
// one Router.BuildHTTP put in the request's context, or one made from in
// when first needed, once.
func lazyRouter(in HTTPInput) func(ctx context.Context) (*Router, error) {
	var once sync.Once
	var own *Router
	var ownErr error
	return func(ctx context.Context) (*Router, error) {
		if rt, ok := ctx.Value(routerKey{}).(*Router); ok {
			return rt, nil
		}
		once.Do(func() { own, ownErr = NewRouter(in) })
		return own, ownErr
	}
}

// SymlinkCacheLifetime is how long a Router trusts a symlink check it made
// (see Router): a script turned into a symlink out of the document root
// after it was checked runs for at most this long before it is refused.
const SymlinkCacheLifetime = time.Second

// symlinkCacheMax bounds the symlink checks a Router keeps; past it the
// expired ones go, then all of them.
const symlinkCacheMax = 4096

// Router is the PHP router of one site, made once and used for every
// request: it routes as RoutePHP does, with its regexps compiled once and
// the symlink checks of its document root (the resolution of the root and
// of each script, and whether the script stays inside) kept for
// SymlinkCacheLifetime. Everything else is checked on every request. It is
// safe for concurrent use.
type Router struct {
	site  HTTPInput // defaults applied; only the routing fields count
	rx    routerRegexps
	links *symlinkCache // nil without symlink checks (AllowSymlinks)
}

// NewRouter returns the router of the site described by in's routing
// fields: DocumentRoot, Index, SplitPath, Location, FrontController and
// AllowSymlinks (the request's own fields are ignored). It fails when a
// regexp does not compile or the split regexp lacks its two groups.
func NewRouter(in HTTPInput) (*Router, error) {
	in = in.WithDefaults()
	rx, err := compileRouter(in)
	if err != nil {
		return nil, err
	}
	rt := &Router{site: in, rx: rx}
	if !in.AllowSymlinks {
		rt.links = &symlinkCache{now: time.Now, entries: make(map[string]symlinkCheck)}
	}
	return rt, nil
}

// Route routes the request target url (path and query, as on the request
// line) as RoutePHP does for the router's site.
func (rt *Router) Route(url string) (Route, error) {
	in := rt.site
	in.URL = url
	return routePHP(in, rt.rx, rt.links)
}

// Site returns in with its routing fields (see NewRouter) replaced by the
// router's, defaults applied to the rest: the input BuildHTTP maps.
func (rt *Router) Site(in HTTPInput) HTTPInput {
	in.DocumentRoot, in.Index, in.SplitPath, in.Location = rt.site.DocumentRoot, rt.site.Index, rt.site.SplitPath, rt.site.Location
	in.FrontController, in.AllowSymlinks = rt.site.FrontController, rt.site.AllowSymlinks
	return in.WithDefaults()
}

// BuildHTTP maps in as session.BuildHTTP does, routed by rt: in's routing
// fields are replaced by the router's (see Site).
func (rt *Router) BuildHTTP(in HTTPInput) (*Request, error) {
	in = rt.Site(in)
	return Build(context.WithValue(context.Background(), routerKey{}, rt), HTTPChain(in))
}

// routerRegexps are the compiled regexps of a router.
type routerRegexps struct {
	split    *regexp.Regexp // two groups: script name, path info
	location *regexp.Regexp
}

// compileRouter compiles in's split and location regexps (defaults
// applied).
func compileRouter(in HTTPInput) (routerRegexps, error) {
	split, err := regexp.Compile(in.SplitPath)
	if err != nil {
		return routerRegexps{}, fmt.Errorf("session: router: split_path: %w", err)
	}
	if split.NumSubexp() < 2 {
		return routerRegexps{}, fmt.Errorf("session: router: split_path %q needs two capture groups (script name, path info), has %d", in.SplitPath, split.NumSubexp())
	}
	loc, err := regexp.Compile(in.Location)
	if err != nil {
		return routerRegexps{}, fmt.Errorf("session: router: location: %w", err)
	}
	return routerRegexps{split: split, location: loc}, nil
}

// routePHP routes in (defaults applied) with rx; links, when not nil,
// caches the symlink checks (nil with AllowSymlinks).
func routePHP(in HTTPInput, rx routerRegexps, links *symlinkCache) (Route, error) {
	root := in.DocumentRoot
	switch {
	case root == "":
		return Route{}, fmt.Errorf("session: router: no document root")
	case !filepath.IsAbs(root):
		return Route{}, fmt.Errorf("session: router: document root %q is not an absolute path", root)
	case strings.ContainsAny(root, "\x00\r\n"):
		return Route{}, fmt.Errorf("session: router: document root %q: %w", root, ErrUnsafePath)
	case strings.ContainsAny(in.Index, "/\x00\r\n"):
		return Route{}, fmt.Errorf("session: router: index %q must be a plain file name", in.Index)
	}
	t, err := parseTarget(in.URL)
	if err != nil {
		return Route{}, err
	}
	uri := t.uri
	if i := strings.IndexAny(uri, "\x00\r\n"); i >= 0 {
		return Route{}, fmt.Errorf("session: router: path %q has byte %#02x at %d (CVE-2019-11043): %w", uri, uri[i], i, ErrUnsafePath)
	}
	if i, why := pathTrick(uri); why != "" {
		return Route{}, fmt.Errorf("session: router: path %q at byte %d: %s: %w", uri, i, why, ErrUnsafePath)
	}
	r := Route{DocumentRoot: root}
	fsRoot := filepath.Clean(root)
	local := func(p string) string { return filepath.Join(fsRoot, filepath.FromSlash(p)) }

	if strings.HasSuffix(uri, "/") && !rx.location.MatchString(uri) {
		switch {
		case isRegular(local(uri + in.Index)):
			uri, r.Index = uri+in.Index, true
		case in.FrontController:
			// Split, then routed to the front controller below.
		case isDir(local(uri)):
			return Route{}, fmt.Errorf("session: router: directory %q has no %s (nginx answers 403): %w", uri, in.Index, ErrNoIndex)
		default:
			return Route{}, fmt.Errorf("session: router: directory %q does not exist, so it has no %s (nginx answers 404): %w", uri, in.Index, ErrNoIndex)
		}
	}
	r.URI, r.ScriptName = uri, uri
	if m := rx.split.FindStringSubmatchIndex(uri); m != nil && m[2] >= 0 {
		r.ScriptName = uri[m[2]:m[3]]
		if m[4] >= 0 {
			r.PathInfo = uri[m[4]:m[5]]
		}
	}
	r.ScriptFilename = root + r.ScriptName
	if !inside(fsRoot, filepath.Clean(r.ScriptFilename)) {
		return Route{}, fmt.Errorf("session: router: path %q escapes document root %q: %w", r.ScriptName, root, ErrPathEscapes)
	}
	if in.FrontController && !isRegular(r.ScriptFilename) {
		front := "/" + in.Index
		if !isRegular(local(front)) {
			return Route{}, fmt.Errorf("session: router: front controller %q does not exist in %q: %w", front, root, ErrNoIndex)
		}
		r.URI, r.ScriptName, r.PathInfo, r.Front = front, front, "", true
		r.ScriptFilename = root + front
	}
	if links != nil {
		if err := links.check(fsRoot, r.ScriptFilename); err != nil {
			return Route{}, err
		}
	}
	return r, nil
}

// lookalikes are the code points that Unicode compatibility folding (NFKC,
// as some file systems, PHP frameworks and WAFs apply) turns into ".", "/"
// or "\\", or that render as a slash; a path carrying one is a traversal
// attempt against whichever layer folds it.
var lookalikes = map[rune]string{
	'\u2024': "ONE DOT LEADER (folds to \".\")",
	'\u2025': "TWO DOT LEADER (folds to \"..\")",
	'\u2026': "HORIZONTAL ELLIPSIS (folds to \"...\")",
	'\ufe52': "SMALL FULL STOP (folds to \".\")",
	'\uff0e': "FULLWIDTH FULL STOP (folds to \".\")",
	'\uff0f': "FULLWIDTH SOLIDUS (folds to \"/\")",
	'\uff3c': "FULLWIDTH REVERSE SOLIDUS (folds to \"\\\")",
	'\ufe68': "SMALL REVERSE SOLIDUS (folds to \"\\\")",
	'\u2215': "DIVISION SLASH (looks like \"/\")",
	'\u2044': "FRACTION SLASH (looks like \"/\")",
}

// pathTrick reports where the decoded, normalized path uri holds a
// traversal trick aimed at a layer other than ours, and what it is: a
// percent escape left after decoding (the URL was encoded twice), a
// backslash (a separator to Windows and to some PHP code), bytes that are
// not UTF-8 (overlong forms such as %c0%ae for "." among them), or a
// lookalike. It returns "" when there is none.
func pathTrick(uri string) (int, string) {
	for i := 0; i < len(uri); {
		c := uri[i]
		switch {
		case c == '%' && i+2 < len(uri) && isHex(uri[i+1]) && isHex(uri[i+2]):
			return i, fmt.Sprintf("%q is still a percent escape after decoding (the URL was encoded twice)", uri[i:i+3])
		case c == '\\':
			return i, "a backslash, which Windows and some PHP code take for a path separator"
		case c < utf8.RuneSelf:
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(uri[i:])
		if r == utf8.RuneError && n <= 1 {
			return i, fmt.Sprintf("byte %#02x is not UTF-8 (an overlong or broken sequence, as %%c0%%ae for \".\")", c)
		}
		if why, ok := lookalikes[r]; ok {
			return i, fmt.Sprintf("U+%04X %s", r, why)
		}
		i += n
	}
	return 0, ""
}

// checkSymlinks refuses an existing file that resolves to a path outside
// the resolved root. A file that does not exist has nothing to run.
func checkSymlinks(root, file string) error {
	realFile, err := filepath.EvalSymlinks(file)
	if err != nil {
		return nil
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil
	}
	if !inside(realRoot, realFile) {
		return fmt.Errorf("session: router: %q resolves to %q, outside document root %q (a symlink; allow_symlinks permits it): %w", file, realFile, root, ErrPathEscapes)
	}
	return nil
}

// symlinkCache keeps the outcome of checkSymlinks for a root and a file for
// SymlinkCacheLifetime, refusals included, at most symlinkCacheMax of them.
type symlinkCache struct {
	now func() time.Time // replaced by tests

	mu      sync.Mutex
	entries map[string]symlinkCheck // by root + NUL + file
}

type symlinkCheck struct {
	err     error
	expires time.Time
}

// check returns checkSymlinks(root, file), from the cache while the entry
// lives.
func (c *symlinkCache) check(root, file string) error {
	key := root + "\x00" + file
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.err
	}
	err := checkSymlinks(root, file)
	c.mu.Lock()
	if len(c.entries) >= symlinkCacheMax {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= symlinkCacheMax {
			clear(c.entries)
		}
	}
	c.entries[key] = symlinkCheck{err: err, expires: now.Add(SymlinkCacheLifetime)}
	c.mu.Unlock()
	return err
}

// inside reports whether the clean path p is root or lies below it, by path
// components.
func inside(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return false
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func isRegular(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// PHPRouter sets SCRIPT_NAME, DOCUMENT_URI, DOCUMENT_ROOT, SCRIPT_FILENAME
// and PATH_INFO from RoutePHP(in).
func PHPRouter(in HTTPInput) Middleware {
	router, url := lazyRouter(in), in.URL
	return func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (*Exchange, error) {
			rt, err := router(ctx)
			if err != nil {
				return nil, err
			}
			r, err := rt.Route(url)
			if err != nil {
				return nil, err
			}
			ps := &req.Params
			ps.Place("SCRIPT_NAME", r.ScriptName, OriginRouter)
			ps.Place("DOCUMENT_URI", r.URI, OriginRouter)
			ps.Place("DOCUMENT_ROOT", r.DocumentRoot, OriginRouter)
			ps.Place("SCRIPT_FILENAME", r.ScriptFilename, OriginRouter)
			ps.Place("PATH_INFO", r.PathInfo, OriginRouter)
			return next(ctx, req)
		}
	}
}
