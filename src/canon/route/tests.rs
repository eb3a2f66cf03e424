//! One test per rule and quirk of route.php (SPEC section 6), the merge, the site root and the
//! custom routes. Expected `$_GET`s are written as PHP's `json_encode` would print them.

use super::*;
use crate::canon::json::encode_params;
use crate::canon::query::{QueryLimits, parse_query};
use crate::canon::tree::Value;

fn get(query: &str) -> Params {
    parse_query(query.as_bytes(), QueryLimits::default())
}

/// route.php on `path` with the query `query`: `(target, $_GET as JSON in order, row)`, or
/// `None` for 404.
fn routed(path: &[u8], query: &str) -> Option<(&'static str, String, u8)> {
    match route(path, &get(query)) {
        Route::NotFound => None,
        Route::Routed(r) => Some((r.target, encode_params(&r.get).unwrap(), r.row)),
    }
}

#[track_caller]
fn check(path: &str, query: &str, target: &str, json: &str, row: u8) {
    assert_eq!(
        routed(path.as_bytes(), query),
        Some((target_static(target), json.to_owned(), row)),
        "{path:?} ? {query:?}"
    );
}

fn target_static(t: &str) -> &'static str {
    targets()
        .into_iter()
        .find(|x| *x == t)
        .unwrap_or_else(|| panic!("{t} is not a target"))
}

#[track_caller]
fn not_found(path: &[u8]) {
    assert_eq!(route(path, &Params::new()), Route::NotFound, "{path:?}");
}

// ---------------------------------------------------------------------------------------------
// The table, row by row

#[test]
fn row1_fixed_names() {
    for (name, target) in [
        ("articles", "tiki-view_articles.php"),
        ("blogs", "tiki-list_blogs.php"),
        ("calendar", "tiki-calendar.php"),
        ("categories", "tiki-browse_categories.php"),
        ("contact", "tiki-contact.php"),
        ("directories", "tiki-directory_browse.php"),
        ("faqs", "tiki-list_faqs.php"),
        ("filelist", "tiki-list_file_gallery.php"),
        ("forums", "tiki-forums.php"),
        ("login", "tiki-login_scr.php"),
        ("logout", "tiki-logout.php"),
        ("me", "tiki-user_information.php"),
        ("my", "tiki-my_tiki.php"),
        ("newsletters", "tiki-newsletters.php"),
        ("quizzes", "tiki-list_quizzes.php"),
        ("register", "tiki-register.php"),
        ("sheets", "tiki-sheets.php"),
        ("statistics", "tiki-stats.php"),
        ("surveys", "tiki-list_surveys.php"),
        ("trackers", "tiki-list_trackers.php"),
        ("users", "tiki-list_users.php"),
        ("tiki-check", "tiki-check.php"),
        ("robots.txt", "tiki-robots.php"),
    ] {
        check(name, "a=1", target, r#"{"a":"1"}"#, 1);
    }
    // Case-sensitive, anchored at both ends.
    check(
        "Articles",
        "",
        "tiki-index.php",
        r#"{"page":"Articles"}"#,
        18,
    );
    check(
        "articlesx",
        "",
        "tiki-index.php",
        r#"{"page":"articlesx"}"#,
        18,
    );
    check(
        "xarticles",
        "",
        "tiki-index.php",
        r#"{"page":"xarticles"}"#,
        18,
    );
}

#[test]
fn row1_has_no_callback_so_get_is_not_renumbered() {
    // route.php merges only when a rule has a callback: integer keys stay as they were.
    check(
        "articles",
        "5=x&7=y",
        "tiki-view_articles.php",
        r#"{"5":"x","7":"y"}"#,
        1,
    );
    match route(b"articles", &get("5=x")) {
        Route::Routed(r) => assert!(r.added.is_empty()),
        Route::NotFound => panic!("articles is routed"),
    }
}

#[test]
fn row1_robots_dot_matches_any_byte_but_newline() {
    check("robotsXtxt", "", "tiki-robots.php", "[]", 1);
    assert_eq!(route(b"robots\xfftxt", &Params::new()).row(), Some(1));
    assert_eq!(route(b"robots\0txt", &Params::new()).row(), Some(1));
    // A newline is not matched by `.`; `robots\ntxt` ends in `.txt`-less text: the catch-all
    // takes the part before the newline.
    check(
        "robots\ntxt",
        "",
        "tiki-index.php",
        r#"{"page":"robots"}"#,
        18,
    );
}

#[test]
fn row2_articles_with_and_without_title() {
    check(
        "art12",
        "",
        "tiki-read_article.php",
        r#"{"articleId":"12"}"#,
        2,
    );
    check(
        "article12",
        "",
        "tiki-read_article.php",
        r#"{"articleId":"12"}"#,
        2,
    );
    check(
        "art12-My-Title",
        "",
        "tiki-read_article.php",
        r#"{"articleId":"12"}"#,
        2,
    );
    check(
        "article12-",
        "",
        "tiki-read_article.php",
        r#"{"articleId":"12"}"#,
        2,
    );
    check("art12x", "", "tiki-index.php", r#"{"page":"art12x"}"#, 18);
    check("art", "", "tiki-index.php", r#"{"page":"art"}"#, 18);
    check("arti12", "", "tiki-index.php", r#"{"page":"arti12"}"#, 18);
    // A title ending in a stopped extension is still an article: rows before the stop win.
    check(
        "art12-notes.txt",
        "",
        "tiki-read_article.php",
        r#"{"articleId":"12"}"#,
        2,
    );
}

#[test]
fn row3_blogs_posts_categories_events() {
    check("blog3", "", "tiki-view_blog.php", r#"{"blogId":"3"}"#, 3);
    check(
        "blog3-News",
        "",
        "tiki-view_blog.php",
        r#"{"blogId":"3"}"#,
        3,
    );
    check(
        "blogpost4-Hello",
        "",
        "tiki-view_blog_post.php",
        r#"{"postId":"4"}"#,
        3,
    );
    check(
        "cat5-Some-Category",
        "",
        "tiki-browse_categories.php",
        r#"{"parentId":"5"}"#,
        3,
    );
    check(
        "event9",
        "",
        "tiki-calendar_edit_item.php",
        r#"{"viewcalitemId":"9"}"#,
        3,
    );
    check(
        "event9-Party",
        "",
        "tiki-calendar_edit_item.php",
        r#"{"viewcalitemId":"9"}"#,
        3,
    );
}

#[test]
fn row4_calendars_split_and_filtered_keeping_keys() {
    check("cal1", "", "tiki-calendar.php", r#"{"calIds":["1"]}"#, 4);
    check(
        "cal1,2",
        "",
        "tiki-calendar.php",
        r#"{"calIds":["1","2"]}"#,
        4,
    );
    check(
        "cal1,,2-Title",
        "",
        "tiki-calendar.php",
        r#"{"calIds":{"0":"1","2":"2"}}"#,
        4,
    );
    // "0" and "" are falsy and dropped; "00" is not.
    check(
        "cal0,00,3,",
        "",
        "tiki-calendar.php",
        r#"{"calIds":{"1":"00","2":"3"}}"#,
        4,
    );
    check("cal0", "", "tiki-calendar.php", r#"{"calIds":[]}"#, 4);
    check("cal,1", "", "tiki-index.php", r#"{"page":"cal,1"}"#, 18);
    check("cal1x", "", "tiki-index.php", r#"{"page":"cal1x"}"#, 18);
    // `calendar` is row 1, `calevent` row 7: not calendars.
    check(
        "calevent7",
        "",
        "tiki-calendar_edit_item.php",
        r#"{"viewcalitemId":"7"}"#,
        7,
    );
}

#[test]
fn rows5_to_7_plain_ids() {
    check(
        "directory2",
        "",
        "tiki-directory_browse.php",
        r#"{"parent":"2"}"#,
        5,
    );
    check(
        "dirlink2",
        "",
        "tiki-directory_redirect.php",
        r#"{"siteId":"2"}"#,
        5,
    );
    check("faq2", "", "tiki-view_faq.php", r#"{"faqId":"2"}"#, 5);
    check(
        "file2",
        "",
        "tiki-list_file_gallery.php",
        r#"{"galleryId":"2"}"#,
        5,
    );
    check("forum2", "", "tiki-view_forum.php", r#"{"forumId":"2"}"#, 5);
    check(
        "forumthread8-Some-Topic",
        "",
        "tiki-view_forum_thread.php",
        r#"{"comments_parentId":"8"}"#,
        6,
    );
    check("img4", "", "show_image.php", r#"{"id":"4"}"#, 7);
    check("image4", "", "show_image.php", r#"{"id":"4"}"#, 7);
    // Plain ids take no title.
    check(
        "forum2-Title",
        "",
        "tiki-index.php",
        r#"{"page":"forum2-Title"}"#,
        18,
    );
    check("file2-x", "", "tiki-index.php", r#"{"page":"file2-x"}"#, 18);
}

#[test]
fn row8_image_scale() {
    check(
        "imagescale5/100",
        "",
        "show_image.php",
        r#"{"id":"5","scalesize":"100"}"#,
        8,
    );
    check(
        "imagescale5/",
        "",
        "tiki-index.php",
        r#"{"page":"imagescale5\/"}"#,
        18,
    );
    check(
        "imagescale/100",
        "",
        "tiki-index.php",
        r#"{"page":"imagescale\/100"}"#,
        18,
    );
    check(
        "imagescale5/100/",
        "",
        "tiki-index.php",
        r#"{"page":"imagescale5\/100\/"}"#,
        18,
    );
}

#[test]
fn row9_tracker_items() {
    check(
        "item7",
        "",
        "tiki-view_tracker_item.php",
        r#"{"itemId":"7"}"#,
        9,
    );
    check(
        "item7-Title-Here",
        "",
        "tiki-view_tracker_item.php",
        r#"{"itemId":"7"}"#,
        9,
    );
    check(
        "item7",
        "itemId=9&trackerId=2",
        "tiki-view_tracker_item.php",
        r#"{"itemId":"7","trackerId":"2"}"#,
        9,
    );
}

#[test]
fn row10_ids_with_newsletter_info() {
    for (prefix, target, key) in [
        ("int", "tiki-integrator.php", "repID"),
        ("poll", "tiki-poll_form.php", "pollId"),
        ("quiz", "tiki-take_quiz.php", "quizId"),
        ("survey", "tiki-take_survey.php", "surveyId"),
        ("tracker", "tiki-view_tracker.php", "trackerId"),
        (
            "trackerfields",
            "tiki-admin_tracker_fields.php",
            "trackerId",
        ),
        ("sheet", "tiki-view_sheets.php", "sheetId"),
        ("user", "tiki-user_information.php", "userId"),
    ] {
        check(
            &format!("{prefix}3"),
            "",
            target,
            &format!(r#"{{"{key}":"3"}}"#),
            10,
        );
    }
    check(
        "newsletter4",
        "",
        "tiki-newsletters.php",
        r#"{"nlId":"4","info":"1"}"#,
        10,
    );
    check(
        "nl4",
        "",
        "tiki-newsletters.php",
        r#"{"nlId":"4","info":"1"}"#,
        10,
    );
    // The query's `info` keeps its place and takes the constant's value.
    check(
        "newsletter4",
        "info=0",
        "tiki-newsletters.php",
        r#"{"info":"1","nlId":"4"}"#,
        10,
    );
}

#[test]
fn row11_userinfo_view_has_a_leading_space() {
    check(
        "userinfo",
        "",
        "tiki-view_tracker_item.php",
        r#"{"view":" user"}"#,
        11,
    );
    check(
        "userinfo",
        "view=x&a=b",
        "tiki-view_tracker_item.php",
        r#"{"view":" user","a":"b"}"#,
        11,
    );
}

#[test]
fn row12_downloads_with_empty_extras() {
    check("dl5", "", "tiki-download_file.php", r#"{"fileId":"5"}"#, 12);
    check(
        "dl5",
        "fileId=9",
        "tiki-download_file.php",
        r#"{"fileId":"5"}"#,
        12,
    );
    check(
        "thumbnail5",
        "",
        "tiki-download_file.php",
        r#"{"fileId":"5","thumbnail":""}"#,
        12,
    );
    check(
        "display5",
        "",
        "tiki-download_file.php",
        r#"{"fileId":"5","display":""}"#,
        12,
    );
    check(
        "preview5",
        "",
        "tiki-download_file.php",
        r#"{"fileId":"5","preview":""}"#,
        12,
    );
    check(
        "thumbnail5",
        "thumbnail=big",
        "tiki-download_file.php",
        r#"{"thumbnail":"","fileId":"5"}"#,
        12,
    );
    check(
        "dl5-report",
        "",
        "tiki-index.php",
        r#"{"page":"dl5-report"}"#,
        18,
    );
    check("DL5", "", "tiki-index.php", r#"{"page":"DL5"}"#, 18);
}

#[test]
fn row13_wiki_and_page_prefixes_are_not_decoded() {
    check(
        "wiki-Home%20Page",
        "",
        "tiki-index.php",
        r#"{"page":"Home%20Page"}"#,
        13,
    );
    check(
        "page-Home+Page",
        "",
        "tiki-index.php",
        r#"{"page":"Home+Page"}"#,
        13,
    );
    check(
        "wiki-notes.txt",
        "",
        "tiki-index.php",
        r#"{"page":"notes.txt"}"#,
        13,
    );
    // `.+` needs a byte: `wiki-` alone is a page named "wiki-".
    check("wiki-", "", "tiki-index.php", r#"{"page":"wiki-"}"#, 18);
}

#[test]
fn row14_slideshow_is_url_decoded() {
    check(
        "show:Home%20Page",
        "",
        "tiki-slideshow.php",
        r#"{"page":"Home Page"}"#,
        14,
    );
    check(
        "show:A+B%2B",
        "",
        "tiki-slideshow.php",
        r#"{"page":"A B+"}"#,
        14,
    );
    check("show:", "", "tiki-index.php", r#"{"page":"show:"}"#, 18);
}

#[test]
fn row15_sitemap_is_unanchored_and_its_dot_is_any_byte() {
    check(
        "sitemap.xml",
        "",
        "tiki-sitemap.php",
        r#"{"file":"sitemap.xml"}"#,
        15,
    );
    check(
        "Convert-to-xml",
        "",
        "tiki-sitemap.php",
        r#"{"file":"Convert-to-xml"}"#,
        15,
    );
    // Unanchored at the start: the match begins after the last `/`.
    check(
        "a/b/c.xml",
        "",
        "tiki-sitemap.php",
        r#"{"file":"c.xml"}"#,
        15,
    );
    // ... and the `.` may itself be a `/`.
    check("a/xml", "", "tiki-sitemap.php", r#"{"file":"a\/xml"}"#, 15);
    check("/xml", "", "tiki-index.php", r#"{"page":"\/xml"}"#, 18);
    check("xml", "", "tiki-index.php", r#"{"page":"xml"}"#, 18);
    check("a.XML", "", "tiki-index.php", r#"{"page":"a.XML"}"#, 18);
    check("a.xmlx", "", "tiki-index.php", r#"{"page":"a.xmlx"}"#, 18);
    // `[^/]` takes newlines, `.` does not.
    assert_eq!(file_of(b"a\nb.xml"), Some(b"a\nb.xml".to_vec()));
    assert_eq!(file_of(b"a\nxml"), None);
    // `$` before a final newline: the newline is not part of the match.
    assert_eq!(file_of(b"a.xml\n"), Some(b"a.xml".to_vec()));
    assert_eq!(file_of(b"a.xml\n\n"), None);
}

fn file_of(path: &[u8]) -> Option<Vec<u8>> {
    match route(path, &Params::new()) {
        Route::Routed(r) if r.row == 15 => match r.get.get(&Key::Str(b"file".to_vec())) {
            Some(Value::Str(s)) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

#[test]
fn row16_ajax_services() {
    check(
        "tiki-my-page",
        "",
        "tiki-ajax_services.php",
        r#"{"controller":"my","action":"page"}"#,
        16,
    );
    check(
        "tiki-tracker-x",
        "",
        "tiki-ajax_services.php",
        r#"{"controller":"tracker"}"#,
        16,
    );
    check(
        "tiki-a_1-B_2",
        "",
        "tiki-ajax_services.php",
        r#"{"controller":"a_1","action":"B_2"}"#,
        16,
    );
    check(
        "tiki-tracker-X",
        "",
        "tiki-ajax_services.php",
        r#"{"controller":"tracker","action":"X"}"#,
        16,
    );
    // `tiki-check` is row 1; three parts, empty parts or non-word bytes fall through.
    check(
        "tiki-check-x",
        "",
        "tiki-ajax_services.php",
        r#"{"controller":"check"}"#,
        16,
    );
    check(
        "tiki-a-b-c",
        "",
        "tiki-index.php",
        r#"{"page":"tiki-a-b-c"}"#,
        18,
    );
    check("tiki--b", "", "tiki-index.php", r#"{"page":"tiki--b"}"#, 18);
    check("tiki-a-", "", "tiki-index.php", r#"{"page":"tiki-a-"}"#, 18);
    check(
        "tiki-a-b%20",
        "",
        "tiki-index.php",
        r#"{"page":"tiki-a-b "}"#,
        18,
    );
    assert_eq!(route("tiki-é-x".as_bytes(), &Params::new()).row(), Some(18));
}

#[test]
fn row17_api_route_is_raw() {
    check(
        "api/tracker/items",
        "x=1",
        "tiki-api.php",
        r#"{"x":"1","route":"tracker\/items"}"#,
        17,
    );
    check("api/", "", "tiki-api.php", r#"{"route":""}"#, 17);
    check(
        "api/a%20b.php",
        "",
        "tiki-api.php",
        r#"{"route":"a%20b.php"}"#,
        17,
    );
    check("API/x", "", "tiki-index.php", r#"{"page":"API\/x"}"#, 18);
}

#[test]
fn extension_stop_after_row17_before_the_catch_all() {
    for ext in [
        "css", "gif", "jpg", "png", "php", "html", "js", "htm", "shtml", "cgi", "sql", "phtml",
        "txt", "ihtml",
    ] {
        not_found(format!("Notes.{ext}").as_bytes());
        not_found(format!("a.b.{ext}").as_bytes());
        not_found(format!(".{ext}").as_bytes());
    }
    // Case-sensitive; the text after the *last* dot; other extensions are page names.
    check(
        "Diagram.PNG",
        "",
        "tiki-index.php",
        r#"{"page":"Diagram.PNG"}"#,
        18,
    );
    check(
        "a.txt.bak",
        "",
        "tiki-index.php",
        r#"{"page":"a.txt.bak"}"#,
        18,
    );
    check(
        "Release%2024.1",
        "",
        "tiki-index.php",
        r#"{"page":"Release 24.1"}"#,
        18,
    );
    check(
        "a.txt/b",
        "",
        "tiki-index.php",
        r#"{"page":"a.txt\/b"}"#,
        18,
    );
    check("a.", "", "tiki-index.php", r#"{"page":"a."}"#, 18);
    // An encoded dot is not a dot to route.php (it looks at the raw path).
    check(
        "Notes%2Etxt",
        "",
        "tiki-index.php",
        r#"{"page":"Notes.txt"}"#,
        18,
    );
    // A trailing newline hides the extension (the stop compares "txt\n").
    check(
        "Notes.txt\n",
        "",
        "tiki-index.php",
        r#"{"page":"Notes.txt"}"#,
        18,
    );
}

#[test]
fn catch_all_url_decodes_the_whole_path() {
    check(
        "HomePage",
        "",
        "tiki-index.php",
        r#"{"page":"HomePage"}"#,
        18,
    );
    check(
        "Home%20Page",
        "",
        "tiki-index.php",
        r#"{"page":"Home Page"}"#,
        18,
    );
    check(
        "Home+Page",
        "",
        "tiki-index.php",
        r#"{"page":"Home Page"}"#,
        18,
    );
    check("A%2BB", "", "tiki-index.php", r#"{"page":"A+B"}"#, 18);
    check(
        "Discount%2550",
        "",
        "tiki-index.php",
        r#"{"page":"Discount%50"}"#,
        18,
    );
    check(
        "Foo%2FBar",
        "",
        "tiki-index.php",
        r#"{"page":"Foo\/Bar"}"#,
        18,
    );
    check("50%", "", "tiki-index.php", r#"{"page":"50%"}"#, 18);
    check(
        "%C3%A9t%C3%A9",
        "",
        "tiki-index.php",
        r#"{"page":"\u00e9t\u00e9"}"#,
        18,
    );
    check(
        "HomePage/",
        "",
        "tiki-index.php",
        r#"{"page":"HomePage\/"}"#,
        18,
    );
    check(
        "/HomePage",
        "",
        "tiki-index.php",
        r#"{"page":"\/HomePage"}"#,
        18,
    );
    check(
        "./HomePage",
        "",
        "tiki-index.php",
        r#"{"page":".\/HomePage"}"#,
        18,
    );
    check("../x", "", "tiki-index.php", r#"{"page":"..\/x"}"#, 18);
    // `.*` stops at the first newline (only the decoded form can carry one).
    check("Foo\nBar", "", "tiki-index.php", r#"{"page":"Foo"}"#, 18);
    check("\nBar", "", "tiki-index.php", r#"{"page":""}"#, 18);
}

#[test]
fn empty_path_is_the_catch_all_with_an_empty_page() {
    // route.php itself: no rule matches "", there is no dot, custom routes are skipped for an
    // empty path, and `|.*|` matches the empty string.
    check("", "", "tiki-index.php", r#"{"page":""}"#, 18);
    check("", "page=X", "tiki-index.php", r#"{"page":""}"#, 18);
}

#[test]
fn dollar_matches_before_a_final_newline() {
    check("articles\n", "", "tiki-view_articles.php", "[]", 1);
    check(
        "dl5\n",
        "",
        "tiki-download_file.php",
        r#"{"fileId":"5"}"#,
        12,
    );
    check(
        "art5-x\n",
        "",
        "tiki-read_article.php",
        r#"{"articleId":"5"}"#,
        2,
    );
    check("wiki-A\n", "", "tiki-index.php", r#"{"page":"A"}"#, 13);
    check("api/x\n", "", "tiki-api.php", r#"{"route":"x"}"#, 17);
    check(
        "tiki-a-b\n",
        "",
        "tiki-ajax_services.php",
        r#"{"controller":"a","action":"b"}"#,
        16,
    );
    check(
        "imagescale1/2\n",
        "",
        "show_image.php",
        r#"{"id":"1","scalesize":"2"}"#,
        8,
    );
    check(
        "cal1,2\n",
        "",
        "tiki-calendar.php",
        r#"{"calIds":["1","2"]}"#,
        4,
    );
    // Only one final newline, and only at the end.
    check("dl5\n\n", "", "tiki-index.php", r#"{"page":"dl5"}"#, 18);
    check(
        "art5-x\ny",
        "",
        "tiki-index.php",
        r#"{"page":"art5-x"}"#,
        18,
    );
    check("wiki-\n", "", "tiki-index.php", r#"{"page":"wiki-"}"#, 18);
}

// ---------------------------------------------------------------------------------------------
// array_merge

#[test]
fn merge_renumbers_integer_keys_and_keeps_string_key_places() {
    check(
        "HomePage",
        "5=x&7=y",
        "tiki-index.php",
        r#"{"0":"x","1":"y","page":"HomePage"}"#,
        18,
    );
    check(
        "HomePage",
        "page=Other",
        "tiki-index.php",
        r#"{"page":"HomePage"}"#,
        18,
    );
    check(
        "HomePage",
        "TOKEN=abc123&foo=bar",
        "tiki-index.php",
        r#"{"TOKEN":"abc123","foo":"bar","page":"HomePage"}"#,
        18,
    );
    check(
        "HomePage",
        "b=1&-3=n&page=x&a[5]=y&a[]=z",
        "tiki-index.php",
        r#"{"b":"1","0":"n","page":"HomePage","a":{"5":"y","6":"z"}}"#,
        18,
    );
    // Three ints in a row: 0, 1, 2 whatever they were.
    check(
        "dl1",
        "9=a&3=b&100=c",
        "tiki-download_file.php",
        r#"{"0":"a","1":"b","2":"c","fileId":"1"}"#,
        12,
    );
}

// ---------------------------------------------------------------------------------------------
// Totality and cost

#[test]
fn any_bytes_any_length_never_panic() {
    let q = get("a=1&5=x");
    let nasty: Vec<Vec<u8>> = vec![
        vec![],
        b"\0".to_vec(),
        b"\xff\xfe\xfd".to_vec(),
        b"\n".to_vec(),
        b".".to_vec(),
        b"..".to_vec(),
        b"//".to_vec(),
        b"%".to_vec(),
        b"%0".to_vec(),
        b"cal".to_vec(),
        b"cal,".to_vec(),
        b"imagescale".to_vec(),
        b"imagescale1/".to_vec(),
        b"tiki-".to_vec(),
        b"tiki-a".to_vec(),
        b".xml".to_vec(),
        b"xml\n".to_vec(),
        b"\nxml".to_vec(),
        vec![b'9'; 65536],
        [b"dl".as_slice(), &vec![b'9'; 65536]].concat(),
        [b"cal".as_slice(), &b"1,".repeat(32768)].concat(),
        b"/".repeat(65536),
        b"a/".repeat(32768),
        b".".repeat(65536),
        b"%2".repeat(21845),
    ];
    for p in &nasty {
        let a = route(p, &q);
        assert_eq!(a, route(p, &q));
    }
}

#[test]
fn linear_on_long_paths() {
    let start = std::time::Instant::now();
    for p in [
        [b"cal".as_slice(), &b"1,".repeat(500_000)].concat(),
        b"a/".repeat(500_000),
        [b"art1-".as_slice(), &b"x".repeat(1_000_000)].concat(),
        b"%41".repeat(300_000),
        b"x.".repeat(500_000),
    ] {
        let _ = route(&p, &Params::new());
    }
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn targets_are_the_tables() {
    let all = targets();
    // 23 names of row 1 and 23 more scripts from rows 2-18 (the others repeat row 1's).
    assert_eq!(all.len(), 46);
    assert!(all.contains(&"tiki-index.php") && all.contains(&"show_image.php"));
    for t in &all {
        assert!(
            std::path::Path::new(t)
                .extension()
                .is_some_and(|e| e == "php")
                && !t.contains('/'),
            "{t}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The site root

fn tiki() -> SiteRoot {
    SiteRoot::new(b"/tiki/").unwrap()
}

#[test]
fn site_root_must_be_a_plain_path() {
    assert_eq!(SiteRoot::new(b"/tiki").unwrap().as_bytes(), b"/tiki/");
    assert_eq!(SiteRoot::new(b"/").unwrap().as_bytes(), b"/");
    assert_eq!(SiteRoot::new(b"/a/b/").unwrap().as_bytes(), b"/a/b/");
    for bad in [
        &b""[..],
        b"tiki/",
        b"/a//b/",
        b"/a/./",
        b"/../",
        b"/a\0/",
        b"/a?/",
        b"//",
    ] {
        assert!(
            matches!(SiteRoot::new(bad), Err(RootError::BadRoot(_))),
            "{bad:?}"
        );
    }
    assert_eq!(tiki().entry(b"tiki-index.php"), b"/tiki/tiki-index.php");
}

#[test]
fn classify_tells_root_scripts_and_routes_apart() {
    let r = tiki();
    let raw = |p: &str| r.classify(p.as_bytes(), PathForm::Raw);
    assert_eq!(raw("/tiki/"), Ok(Below::Root));
    assert_eq!(raw("/tiki/./"), Ok(Below::Root));
    assert_eq!(
        raw("/tiki/tiki-index.php"),
        Ok(Below::Script(b"tiki-index.php".to_vec()))
    );
    assert_eq!(
        raw("/tiki/tiki-download_file.php"),
        Ok(Below::Script(b"tiki-download_file.php".to_vec()))
    );
    assert_eq!(
        raw("/tiki/tiki%2Dindex.php"),
        Ok(Below::Script(b"tiki-index.php".to_vec()))
    );
    assert_eq!(
        raw("/tiki//tiki-index.php"),
        Ok(Below::Script(b"tiki-index.php".to_vec()))
    );
    assert_eq!(
        raw("/tiki/NoSuch.php"),
        Ok(Below::Script(b"NoSuch.php".to_vec()))
    );
    // Not a script: further `/`, other case, other extension.
    assert_eq!(
        raw("/tiki/lib/x.php"),
        Ok(Below::Route(b"lib/x.php".to_vec()))
    );
    assert_eq!(
        raw("/tiki/tiki-index.php/x"),
        Ok(Below::Route(b"tiki-index.php/x".to_vec()))
    );
    assert_eq!(raw("/tiki/X.PHP"), Ok(Below::Route(b"X.PHP".to_vec())));
    // Raw: the path below the root as sent, `//` and `./` kept, nothing decoded.
    assert_eq!(
        raw("/tiki/Home%20Page"),
        Ok(Below::Route(b"Home%20Page".to_vec()))
    );
    assert_eq!(
        raw("/tiki//HomePage"),
        Ok(Below::Route(b"/HomePage".to_vec()))
    );
    assert_eq!(
        raw("/tiki/./HomePage"),
        Ok(Below::Route(b"./HomePage".to_vec()))
    );
    assert_eq!(
        raw("/tiki/x/../HomePage"),
        Ok(Below::Route(b"x/../HomePage".to_vec()))
    );
}

#[test]
fn classify_decoded_form_is_what_apache_puts_in_script_url() {
    let r = tiki();
    let dec = |p: &str| r.classify(p.as_bytes(), PathForm::Decoded);
    assert_eq!(
        dec("/tiki/Home%20Page"),
        Ok(Below::Route(b"Home Page".to_vec()))
    );
    assert_eq!(dec("/tiki/A%2BB"), Ok(Below::Route(b"A+B".to_vec())));
    assert_eq!(
        dec("/tiki//x/./HomePage"),
        Ok(Below::Route(b"x/HomePage".to_vec()))
    );
    assert_eq!(dec("/tiki/x%0Ay"), Ok(Below::Route(b"x\ny".to_vec())));
    assert_eq!(dec("/tiki/Foo%2FBar"), Err(RootError::EncodedSlash));
    assert_eq!(dec("/tiki/%2f"), Err(RootError::EncodedSlash));
    // And then route.php decodes again: the double decoding the target really sees.
    let Ok(Below::Route(path)) = dec("/tiki/A%2BB") else {
        panic!("routed")
    };
    assert_eq!(
        routed(&path, ""),
        Some(("tiki-index.php", r#"{"page":"A B"}"#.to_owned(), 18))
    );
}

#[test]
fn classify_refuses_what_cannot_reach_the_root() {
    let r = tiki();
    let raw = |p: &[u8]| r.classify(p, PathForm::Raw);
    assert_eq!(raw(b"/other/HomePage"), Err(RootError::Outside));
    assert_eq!(raw(b"/tiki"), Err(RootError::Outside));
    assert_eq!(raw(b"/TIKI/HomePage"), Err(RootError::Outside));
    assert_eq!(raw(b"/tiki/../etc/passwd"), Err(RootError::Outside));
    assert_eq!(raw(b""), Err(RootError::Outside));
    assert_eq!(raw(b"tiki/HomePage"), Err(RootError::Outside));
    // Below the root only once decoded/resolved: route.php would cut the wrong bytes.
    assert_eq!(raw(b"/tik%69/HomePage"), Err(RootError::RawNotBelow));
    assert_eq!(raw(b"/x/../tiki/HomePage"), Err(RootError::RawNotBelow));
    assert_eq!(raw(b"//tiki/HomePage"), Err(RootError::RawNotBelow));
    assert_eq!(raw(b"/tiki/a%00b"), Err(RootError::Nul));
    assert_eq!(raw(b"/tiki/a\0b"), Err(RootError::Nul));
    assert_eq!(raw(b"/tiki/50%"), Err(RootError::BadEscape));
    assert_eq!(raw(b"/tiki/%zz"), Err(RootError::BadEscape));
    assert_eq!(raw(b"/tiki/%4"), Err(RootError::BadEscape));
    // A root at the document root.
    let top = SiteRoot::new(b"/").unwrap();
    assert_eq!(
        top.classify(b"/HomePage", PathForm::Raw),
        Ok(Below::Route(b"HomePage".to_vec()))
    );
    assert_eq!(top.classify(b"/", PathForm::Raw), Ok(Below::Root));
}

// ---------------------------------------------------------------------------------------------
// resolve

fn ok(url_path: &str, query: &str) -> (String, String, Option<u8>) {
    let r = resolve(
        &tiki(),
        url_path.as_bytes(),
        PathForm::Raw,
        &get(query),
        &[],
    )
    .unwrap();
    (
        String::from_utf8(r.entry).unwrap(),
        encode_params(&r.params).unwrap(),
        r.routed_by,
    )
}

#[test]
fn resolve_binds_what_the_target_sees() {
    assert_eq!(
        ok("/tiki/HomePage", ""),
        (
            "/tiki/tiki-index.php".into(),
            r#"{"page":"HomePage"}"#.into(),
            Some(18)
        )
    );
    assert_eq!(
        ok("/tiki/dl5", "x=1"),
        (
            "/tiki/tiki-download_file.php".into(),
            r#"{"x":"1","fileId":"5"}"#.into(),
            Some(12)
        )
    );
    // A script below the root keeps its path and query.
    assert_eq!(
        ok("/tiki/tiki-index.php", "page=HomePage&5=x"),
        (
            "/tiki/tiki-index.php".into(),
            r#"{"page":"HomePage","5":"x"}"#.into(),
            None
        )
    );
}

#[test]
fn resolve_refuses_root_404_and_bad_paths() {
    let r = tiki();
    let refuse =
        |p: &str| resolve(&r, p.as_bytes(), PathForm::Raw, &Params::new(), &[]).unwrap_err();
    assert_eq!(refuse("/tiki/"), Refusal::SiteRoot);
    assert_eq!(refuse("/tiki/Notes.txt"), Refusal::NotFound);
    assert_eq!(refuse("/elsewhere/x"), Refusal::Path(RootError::Outside));
    for e in [refuse("/tiki/"), refuse("/tiki/Notes.txt"), refuse("/x")] {
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn resolve_refuses_custom_routes_only_on_the_catch_all() {
    let r = tiki();
    let routes = vec![
        CustomRoute {
            kind: CustomRouteKind::Direct,
            from: b"Promo".to_vec(),
        },
        CustomRoute {
            kind: CustomRouteKind::TrackerField,
            from: br"/^product-(\d+)$/".to_vec(),
        },
        CustomRoute {
            kind: CustomRouteKind::TikiObject,
            from: b"dl5".to_vec(),
        },
    ];
    let run = |p: &str| resolve(&r, p.as_bytes(), PathForm::Raw, &Params::new(), &routes);
    assert!(matches!(
        run("/tiki/Promo"),
        Err(Refusal::CustomRoute {
            kind: CustomRouteKind::Direct,
            uncertain: None,
            ..
        })
    ));
    assert!(matches!(
        run("/tiki/product-12"),
        Err(Refusal::CustomRoute {
            kind: CustomRouteKind::TrackerField,
            uncertain: None,
            ..
        })
    ));
    let msg = run("/tiki/Promo").unwrap_err().to_string();
    assert!(
        msg.contains("mint the URL of the route's target instead"),
        "{msg}"
    );
    // Row 12 takes dl5 before custom routes are tried.
    assert_eq!(run("/tiki/dl5").unwrap().routed_by, Some(12));
    assert_eq!(run("/tiki/Promo2").unwrap().routed_by, Some(18));
    assert_eq!(run("/tiki/product-x").unwrap().routed_by, Some(18));
}

// ---------------------------------------------------------------------------------------------
// Custom routes

fn tf(pattern: &[u8]) -> CustomRoute {
    CustomRoute {
        kind: CustomRouteKind::TrackerField,
        from: pattern.to_vec(),
    }
}

/// `Some(true)` matches, `Some(false)` may match, `None` no match.
fn custom(pattern: &[u8], path: &[u8]) -> Option<bool> {
    let routes = [tf(pattern)];
    match_custom_routes(path, &routes).map(|m| matches!(m, CustomRouteMatch::Matches(_)))
}

#[test]
fn custom_direct_and_object_match_exactly() {
    let routes = [
        CustomRoute {
            kind: CustomRouteKind::TikiObject,
            from: b"About".to_vec(),
        },
        CustomRoute {
            kind: CustomRouteKind::Direct,
            from: b"About".to_vec(),
        },
    ];
    // Tiki's order: Direct first.
    assert_eq!(
        match_custom_routes(b"About", &routes),
        Some(CustomRouteMatch::Matches(&routes[1]))
    );
    assert_eq!(match_custom_routes(b"about", &routes), None);
    assert_eq!(match_custom_routes(b"About/", &routes), None);
    assert_eq!(match_custom_routes(b"", &routes), None);
    let empty = [CustomRoute {
        kind: CustomRouteKind::Direct,
        from: Vec::new(),
    }];
    assert_eq!(
        match_custom_routes(b"", &empty),
        None,
        "never for the empty path"
    );
}

#[test]
fn custom_kind_names() {
    assert_eq!(
        CustomRouteKind::from_type_name(b"Direct"),
        Some(CustomRouteKind::Direct)
    );
    assert_eq!(
        CustomRouteKind::from_type_name(b"TikiObject"),
        Some(CustomRouteKind::TikiObject)
    );
    assert_eq!(
        CustomRouteKind::from_type_name(b"Object"),
        Some(CustomRouteKind::TikiObject)
    );
    assert_eq!(
        CustomRouteKind::from_type_name(b"TrackerField"),
        Some(CustomRouteKind::TrackerField)
    );
    assert_eq!(CustomRouteKind::from_type_name(b"direct"), None);
}

#[test]
fn tracker_field_delimiters_and_flags() {
    assert_eq!(custom(br"/^item-(\d+)$/", b"item-5"), Some(true));
    assert_eq!(custom(br"/^item-(\d+)$/", b"item-x"), None);
    assert_eq!(custom(br"|^item-(\d+)$|", b"item-5"), Some(true));
    assert_eq!(custom(br"#^item-(\d+)$#", b"item-5"), Some(true));
    assert_eq!(custom(br"{^item-(\d+)$}", b"item-5"), Some(true));
    assert_eq!(custom(br"(^item-(\d+)$)", b"item-5"), Some(true));
    assert_eq!(custom(br"[^item-([0-9]+)$]", b"item-5"), Some(true));
    assert_eq!(custom(br"<^item-(\d+)$>", b"item-5"), Some(true));
    assert_eq!(custom(br"  /^a(b)$/", b"ab"), Some(true));
    assert_eq!(custom(b"\x0b/^a(b)$/", b"ab"), Some(true));
    // Flags.
    assert_eq!(custom(br"/^ITEM-(\d+)$/", b"item-5"), None);
    assert_eq!(custom(br"/^ITEM-(\d+)$/i", b"item-5"), Some(true));
    assert_eq!(custom(br"/^a(.)b$/", b"a\nb"), None);
    assert_eq!(custom(br"/^a(.)b$/s", b"a\nb"), Some(true));
    assert_eq!(custom(br"/^(b)$/", b"a\nb"), None);
    assert_eq!(custom(br"/^(b)$/m", b"a\nb"), Some(true));
    assert_eq!(custom(br"/(b)/A", b"ab"), None);
    assert_eq!(custom(br"/(a)/A", b"ab"), Some(true));
    assert_eq!(custom(br"/^(a)$/ S X", b"a"), Some(true));
    // An escaped delimiter inside the pattern.
    assert_eq!(custom(br"/^a\/(b)$/", b"a/b"), Some(true));
    assert_eq!(custom(br"|^a\|(b)$|", b"a|b"), Some(true));
}

#[test]
fn tracker_field_dollar_before_final_newline() {
    assert_eq!(custom(br"/^(a)$/", b"a\n"), Some(true));
    assert_eq!(custom(br"/^(a)$/D", b"a\n"), None);
    assert_eq!(
        custom(br"/^(a)\z/", b"a\n"),
        Some(true),
        "superset: counted as a match"
    );
}

#[test]
fn tracker_field_needs_a_captured_group() {
    assert_eq!(custom(br"/^item-\d+$/", b"item-5"), None);
    assert_eq!(custom(br"/^item-(x)?\d+$/", b"item-5"), None);
    assert_eq!(custom(br"/^item-(x)?(\d+)$/", b"item-5"), Some(true));
    assert_eq!(custom(br"/^item-(?:\d+)$/", b"item-5"), None);
    assert_eq!(custom(br"/^item-(?<id>\d+)$/", b"item-5"), Some(true));
    assert_eq!(custom(br"/^item-(?P<id>\d+)$/", b"item-5"), Some(true));
}

#[test]
fn tracker_field_byte_semantics_without_u() {
    // Without `u`, PCRE sees bytes: `é` is two bytes, `\w` is ASCII.
    assert_eq!(custom("/^(é)$/".as_bytes(), "é".as_bytes()), Some(true));
    assert_eq!(custom(br"/^(\w+)$/", "é".as_bytes()), None);
    assert_eq!(custom(br"/^(\w+)$/u", "é".as_bytes()), Some(true));
    assert_eq!(custom(br"/^(..)$/", "é".as_bytes()), Some(true));
    assert_eq!(custom(br"/^(.)$/u", "é".as_bytes()), Some(true));
    assert_eq!(custom(b"/^(\xff)$/", b"\xff"), Some(true));
    assert_eq!(custom(br"/^(\xff)$/", b"\xff"), Some(true));
    assert_eq!(custom(br"/^(\x{41})$/", b"A"), Some(true));
    assert_eq!(custom(br"/^(a\x)$/", b"a\0"), Some(true));
    assert_eq!(custom(b"/^(a\0b)$/", b"a\0b"), Some(true));
    // Escaped punctuation is literal in PCRE (regex would read `\<` as a word boundary).
    assert_eq!(custom(br"/^(\<x\>)$/", b"<x>"), Some(true));
    assert_eq!(custom(br"/^(a\-b\.c)$/", b"a-b.c"), Some(true));
    assert_eq!(custom(br"/^(a\-b\.c)$/", b"a-bxc"), None);
    // Braces that are not quantifiers are literal in PCRE.
    assert_eq!(custom(br"/^(a{x})$/", b"a{x}"), Some(true));
    assert_eq!(custom(br"/^(a{2})$/", b"aa"), Some(true));
    assert_eq!(custom(br"/^(a{1,2}b{2,})$/", b"abb"), Some(true));
    assert_eq!(custom(br"/^(a{ 2 })$/", b"a{ 2 }"), Some(true));
    // Classes.
    assert_eq!(custom(br"/^([]a]+)$/", b"]a]"), Some(true));
    assert_eq!(custom(br"/^([^]a]+)$/", b"bc"), Some(true));
    assert_eq!(custom(br"/^([[:digit:]-]+)$/", b"1-2"), Some(true));
    assert_eq!(custom(br"/^([\b])$/", b"\x08"), Some(true));
    assert_eq!(custom(br"/^([a\]b]+)$/", b"]ab"), Some(true));
}

#[test]
fn tracker_field_unknowns_may_match() {
    for pattern in [
        &br"/^(?=a)(a)$/"[..], // look-ahead
        br"/^(a)\1$/",         // back-reference
        br"/^(a)\h$/",         // \h
        br"/^(a)\v$/",         // \v is a class in PCRE, a byte in regex
        br"/^(\Qa\E)$/",       // quoting
        br"/^(a) b$/x",        // x flag
        br"/^(a)(?x) b$/",     // inline x
        br"/^([a[b])$/",       // nested class
        br"/^([a&&b])$/",      // class set operation to regex
        br"/^([a--b])$/",
        br"/^(a{,2})$/", // {,n}: literal in PHP 8.2's PCRE, read differently elsewhere
        br"/^(a++)$/",   // possessive (regex reads (a+)+)
        br"/^(a?+b*+)$/",
        br"/^(a{2}+)$/",
        br"/^(a)$/e",   // unknown modifier
        br"/^(a)$",     // no ending delimiter
        br"a^(a)$a",    // alphanumeric delimiter
        br"",           // empty
        br"/^(a)\\",    // ends inside an escape
        b"/^(\xff)$/u", // not UTF-8 under u
        br"/^(a)$/\",
        br"/^(a{99999}){99999}$/", // too big
    ] {
        assert_eq!(
            custom(pattern, b"zzz"),
            Some(false),
            "{:?}",
            String::from_utf8_lossy(pattern)
        );
    }
}

#[test]
fn custom_routes_never_panic_on_odd_patterns() {
    let paths: [&[u8]; 4] = [b"a", b"\xff\n", &[0u8; 10], b"item-1"];
    let mut patterns: Vec<Vec<u8>> = Vec::new();
    for a in [b'/', b'(', b'[', b'{', b'\\', b'x', b'?', b'*', b'%', 0xff] {
        for b in [b'/', b')', b']', b'}', b'\\', b'x', b'{', b'(', b'[', b'-'] {
            patterns.push(vec![b'/', a, b, b'/']);
            patterns.push(vec![a, b, a]);
            patterns.push(vec![b'/', b'(', a, b, b')', b'/', b]);
            patterns.push(vec![b'/', b'[', a, b, b']', b'/']);
            patterns.push(vec![b'/', b'\\', a, b'\\', b, b'/']);
        }
    }
    for p in &patterns {
        for path in paths {
            let _ = custom(p, path);
        }
    }
}

/// A helper to read the row of a route.
trait RowOf {
    fn row(&self) -> Option<u8>;
}

impl RowOf for Route {
    fn row(&self) -> Option<u8> {
        match self {
            Route::Routed(r) => Some(r.row),
            Route::NotFound => None,
        }
    }
}
