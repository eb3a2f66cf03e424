<?php
// The front controller of this project's stand-alone site: a port of Tiki 24.1's route.php, as
// SPEC section 6 describes it, so that SEF URLs (/tiki/HomePage, /tiki/dl5, ...) reach the same
// token gate as the scripts do. The web server sends here every request for a path that is no
// existing file or directory (Apache: Tiki's .htaccess; nginx: try_files $uri $uri/
// /route.php?$args; php -S: a router script, see testkit/src/web/php_builtin.rs).
//
// What it does, as Tiki's does:
//  1. the path: SCRIPT_URL when the server sets it (Apache with RewriteEngine on at server level;
//     already decoded), else REQUEST_URI cut at '?' (raw, still percent-encoded, '//' and './'
//     kept), else REDIRECT_URL, else UNENCODED_URL (IIS);
//  2. $base = PHP_SELF minus 'route.php' (e.g. /tiki/), cut off the path by its length;
//  3. the route table, first match wins; the file-extension stop (404); the catch-all wiki page;
//  4. $_SERVER['PHP_SELF'] = $base . <target>, $_GET = array_merge($_GET, <route values>,
//     <extra constants>) (a route value replaces a query value of the same key; array_merge
//     renumbers integer keys), and the target is included.
// Not ported: custom routes (feature_sefurl_routes, table tiki_custom_route): this site has no
// Tiki database. One addition: a target this site has no stand-in script for is stood in for by
// token_gate.php itself (what every stand-in script runs).

/** The route table of SPEC section 6, in its order; sets the globals $inclusion and $route. */
function tiki_route(string $path): void
{
    $simple = [
        'articles' => 'tiki-view_articles.php',
        'blogs' => 'tiki-list_blogs.php',
        'calendar' => 'tiki-calendar.php',
        'categories' => 'tiki-browse_categories.php',
        'contact' => 'tiki-contact.php',
        'directories' => 'tiki-directory_browse.php',
        'faqs' => 'tiki-list_faqs.php',
        'filelist' => 'tiki-list_file_gallery.php',
        'forums' => 'tiki-forums.php',
        'login' => 'tiki-login_scr.php',
        'logout' => 'tiki-logout.php',
        'me' => 'tiki-user_information.php',
        'my' => 'tiki-my_tiki.php',
        'newsletters' => 'tiki-newsletters.php',
        'quizzes' => 'tiki-list_quizzes.php',
        'register' => 'tiki-register.php',
        'sheets' => 'tiki-sheets.php',
        'statistics' => 'tiki-stats.php',
        'surveys' => 'tiki-list_surveys.php',
        'trackers' => 'tiki-list_trackers.php',
        'users' => 'tiki-list_users.php',
        'tiki-check' => 'tiki-check.php',
        'robots.txt' => 'tiki-robots.php',
    ];
    foreach ($simple as $name => $file) {
        // As Tiki: the name is a pattern, so the '.' of robots.txt matches any byte.
        tiki_route_attempt("|^$name$|", $file);
    }

    tiki_route_attempt('/^(art|article)(\d+)(\-.*)?$/', 'tiki-read_article.php', tiki_route_single(2, 'articleId'));
    tiki_route_attempt('|^blog(\d+)(\-.*)?$|', 'tiki-view_blog.php', tiki_route_single(1, 'blogId'));
    tiki_route_attempt('|^blogpost(\d+)(\-.*)?$|', 'tiki-view_blog_post.php', tiki_route_single(1, 'postId'));
    tiki_route_attempt('|^cat(\d+)(\-.*)?$|', 'tiki-browse_categories.php', tiki_route_single(1, 'parentId'));
    tiki_route_attempt('/^event(\d+)(\-.*)?$/', 'tiki-calendar_edit_item.php', tiki_route_single(1, 'viewcalitemId'));
    tiki_route_attempt('|^cal(\d+[\d,]*)(\-.*)?$|', 'tiki-calendar.php', function ($parts) {
        // array_filter keeps the keys and drops "0" and empty ids.
        return ['calIds' => array_filter(explode(',', $parts[1]))];
    });
    tiki_route_attempt_prefix('directory', 'tiki-directory_browse.php', 'parent');
    tiki_route_attempt_prefix('dirlink', 'tiki-directory_redirect.php', 'siteId');
    tiki_route_attempt_prefix('faq', 'tiki-view_faq.php', 'faqId');
    tiki_route_attempt_prefix('file', 'tiki-list_file_gallery.php', 'galleryId');
    tiki_route_attempt_prefix('forum', 'tiki-view_forum.php', 'forumId');
    tiki_route_attempt('|^forumthread(\d+)(\-.*)?$|', 'tiki-view_forum_thread.php', tiki_route_single(1, 'comments_parentId'));
    tiki_route_attempt_prefix('calevent', 'tiki-calendar_edit_item.php', 'viewcalitemId');
    tiki_route_attempt_prefix('img', 'show_image.php', 'id');
    tiki_route_attempt_prefix('image', 'show_image.php', 'id');
    tiki_route_attempt('|^imagescale(\d+)/(\d+)$|', 'show_image.php', function ($parts) {
        return ['id' => $parts[1], 'scalesize' => $parts[2]];
    });
    tiki_route_attempt('|^item(\d+)(\-.*)?$|', 'tiki-view_tracker_item.php', tiki_route_single(1, 'itemId'));
    tiki_route_attempt_prefix('int', 'tiki-integrator.php', 'repID');
    tiki_route_attempt_prefix('newsletter', 'tiki-newsletters.php', 'nlId', ['info' => '1']);
    tiki_route_attempt_prefix('nl', 'tiki-newsletters.php', 'nlId', ['info' => '1']);
    tiki_route_attempt_prefix('poll', 'tiki-poll_form.php', 'pollId');
    tiki_route_attempt_prefix('quiz', 'tiki-take_quiz.php', 'quizId');
    tiki_route_attempt_prefix('survey', 'tiki-take_survey.php', 'surveyId');
    tiki_route_attempt_prefix('tracker', 'tiki-view_tracker.php', 'trackerId');
    tiki_route_attempt_prefix('trackerfields', 'tiki-admin_tracker_fields.php', 'trackerId');
    tiki_route_attempt_prefix('sheet', 'tiki-view_sheets.php', 'sheetId');
    tiki_route_attempt_prefix('user', 'tiki-user_information.php', 'userId');
    tiki_route_attempt('|^userinfo$|', 'tiki-view_tracker_item.php', null, ['view' => ' user']);
    tiki_route_attempt_prefix('dl', 'tiki-download_file.php', 'fileId');
    tiki_route_attempt_prefix('thumbnail', 'tiki-download_file.php', 'fileId', ['thumbnail' => '']);
    tiki_route_attempt_prefix('display', 'tiki-download_file.php', 'fileId', ['display' => '']);
    tiki_route_attempt_prefix('preview', 'tiki-download_file.php', 'fileId', ['preview' => '']);
    tiki_route_attempt('/^(wiki|page)\-(.+)$/', 'tiki-index.php', function ($parts) {
        return ['page' => $parts[2]];   // not decoded
    });
    tiki_route_attempt('/^show:(.+)$/', 'tiki-slideshow.php', function ($parts) {
        return ['page' => urldecode($parts[1])];
    });
    // Unanchored, and the '.' matches any byte: the whole match is the file.
    tiki_route_attempt('/([^\/]+).xml$/', 'tiki-sitemap.php', function ($parts) {
        return ['file' => $parts[0]];
    });
    tiki_route_attempt('|^tiki\-(\w+)\-(\w+)$|', 'tiki-ajax_services.php', function ($parts) {
        return $parts[2] === 'x' ? ['controller' => $parts[1]] : ['controller' => $parts[1], 'action' => $parts[2]];
    });
    tiki_route_attempt('|^api/(.*)$|', 'tiki-api.php', function ($parts) {
        return ['route' => $parts[1]];
    });

    // Things that look like file names are never wiki pages: 404 (case-sensitive extensions).
    $dot = strrpos($path, '.');
    if ($dot !== false && in_array(substr($path, $dot + 1), ['css', 'gif', 'jpg', 'png', 'php', 'html', 'js', 'htm', 'shtml', 'cgi', 'sql', 'phtml', 'txt', 'ihtml'], true)) {
        return;
    }

    tiki_route_attempt('|.*|', 'tiki-index.php', function ($parts) {
        return ['page' => urldecode($parts[0])];
    });
}

/** The first rule whose pattern matches the path wins: its target, and what it adds to $_GET. */
function tiki_route_attempt(string $pattern, string $file, ?callable $callback = null, array $extra = []): void
{
    global $path, $inclusion, $route;

    if ($inclusion !== null) {
        return;
    }
    if (preg_match($pattern, $path, $parts)) {
        $inclusion = $file;
        $route = [$callback ? $callback($parts) : [], $extra];
    }
}

/** `|^P(\d+)$|` with the id as `$key`. */
function tiki_route_attempt_prefix(string $prefix, string $file, string $key, array $extra = []): void
{
    tiki_route_attempt("|^$prefix(\d+)$|", $file, tiki_route_single(1, $key), $extra);
}

function tiki_route_single(int $index, string $name): callable
{
    return function ($parts) use ($index, $name) {
        return [$name => $parts[$index]];
    };
}

$base = null;
$path = null;
$inclusion = null;
$route = null;

if (isset($_SERVER['SCRIPT_URL'])) {
    $full = $_SERVER['SCRIPT_URL'];
} elseif (isset($_SERVER['REQUEST_URI'])) {
    $full = $_SERVER['REQUEST_URI'];
    if (strpos($full, '?') !== false) {
        $full = substr($full, 0, strpos($full, '?'));
    }
} elseif (isset($_SERVER['REDIRECT_URL'])) {
    $full = $_SERVER['REDIRECT_URL'];
} elseif (isset($_SERVER['UNENCODED_URL'])) {
    $full = $_SERVER['UNENCODED_URL'];
}
if (isset($full)) {
    $base = substr($_SERVER['PHP_SELF'], 0, -strlen(basename(__FILE__)));
    $path = (string) substr($full, strlen($base));
}

if ($base === null || $path === null) {
    http_response_code(500);
    header('Content-Type: text/plain');
    echo "Request could not be understood. Verify routing file.\n";
    exit;
}

tiki_route($path);

if ($inclusion === null) {
    http_response_code(404);
    header('Content-Type: text/plain');
    echo "No route found.\n";
    exit;
}

$_SERVER['PHP_SELF'] = $base . $inclusion;
$_GET = array_merge($_GET, $route[0], $route[1]);
$script = __DIR__ . '/' . $inclusion;
include is_file($script) ? $script : __DIR__ . '/token_gate.php';
