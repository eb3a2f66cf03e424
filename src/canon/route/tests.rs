//! One test per rule and quirk of route.php (SPEC section 6), the merge, the site root and the
//! custom routes. Expected `$_GET`s are written as PHP's `json_encode` prints them.

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

/// Routed cases, one per line: `path | query | target | $_GET as JSON | row` (`\n` in a path
/// stands for a newline; blank lines and `//` comments are skipped).
#[track_caller]
fn check_table(table: &str) {
    let lines = table.lines().map(str::trim);
    for line in lines.filter(|l| !l.is_empty() && !l.starts_with("//")) {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let [path, query, target, json, row] = cols[..] else {
            panic!("5 columns expected: {line}")
        };
        let path = path.replace("\\n", "\n");
        let row: u8 = row.parse().expect(line);
        assert_eq!(
            routed(path.as_bytes(), query),
            Some((target, json.to_owned(), row)),
            "{line}"
        );
    }
}

/// Paths that fall through to the catch-all: (path, the page it names).
#[track_caller]
fn wiki_pages(cases: &[(&[u8], &[u8])]) {
    for &(path, page) in cases {
        let want: Params = [(Key::Str(b"page".to_vec()), Value::Str(page.to_vec()))]
            .into_iter()
            .collect();
        match route(path, &Params::new()) {
            Route::Routed(r) => {
                assert_eq!(
                    (r.target, r.row),
                    ("tiki-index.php", CATCH_ALL_ROW),
                    "{path:?}"
                );
                assert_eq!(r.get, want, "{path:?}");
            }
            Route::NotFound => panic!("{path:?}: 404"),
        }
    }
}

#[track_caller]
fn not_found(path: &[u8]) {
    assert_eq!(route(path, &Params::new()), Route::NotFound, "{path:?}");
}

fn row_of(path: &[u8]) -> Option<u8> {
    match route(path, &Params::new()) {
        Route::Routed(r) => Some(r.row),
        Route::NotFound => None,
    }
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
        assert_eq!(
            routed(name.as_bytes(), "a=1"),
            Some((target, r#"{"a":"1"}"#.into(), 1))
        );
    }
    // Case-sensitive, anchored at both ends.
    wiki_pages(&[
        (b"Articles", b"Articles"),
        (b"articlesx", b"articlesx"),
        (b"xarticles", b"xarticles"),
    ]);
}

#[test]
fn row1_has_no_callback_so_get_is_not_renumbered() {
    // route.php merges only when a rule has a callback: integer keys stay as they were.
    check_table(r#"articles | 5=x&7=y | tiki-view_articles.php | {"5":"x","7":"y"} | 1"#);
    match route(b"articles", &get("5=x")) {
        Route::Routed(r) => assert!(r.added.is_empty()),
        Route::NotFound => panic!("articles is routed"),
    }
}

#[test]
fn row1_robots_dot_matches_any_byte_but_newline() {
    check_table(r#"robotsXtxt |  | tiki-robots.php | [] | 1"#);
    assert_eq!(row_of(b"robots\xfftxt"), Some(1));
    assert_eq!(row_of(b"robots\0txt"), Some(1));
    // `.` does not match a newline: the catch-all takes the part before it.
    wiki_pages(&[(b"robots\ntxt", b"robots")]);
}

#[test]
fn row2_articles_with_and_without_title() {
    check_table(
        r#"
        art12           |  | tiki-read_article.php | {"articleId":"12"} | 2
        article12       |  | tiki-read_article.php | {"articleId":"12"} | 2
        art12-My-Title  |  | tiki-read_article.php | {"articleId":"12"} | 2
        article12-      |  | tiki-read_article.php | {"articleId":"12"} | 2
        // A title ending in a stopped extension is still an article: rows before the stop win.
        art12-notes.txt |  | tiki-read_article.php | {"articleId":"12"} | 2
        "#,
    );
    wiki_pages(&[
        (b"art12x", b"art12x"),
        (b"art", b"art"),
        (b"arti12", b"arti12"),
    ]);
}

#[test]
fn row3_blogs_posts_categories_events() {
    check_table(
        r#"
        blog3              |  | tiki-view_blog.php          | {"blogId":"3"}        | 3
        blog3-News         |  | tiki-view_blog.php          | {"blogId":"3"}        | 3
        blogpost4-Hello    |  | tiki-view_blog_post.php     | {"postId":"4"}        | 3
        cat5-Some-Category |  | tiki-browse_categories.php  | {"parentId":"5"}      | 3
        event9             |  | tiki-calendar_edit_item.php | {"viewcalitemId":"9"} | 3
        event9-Party       |  | tiki-calendar_edit_item.php | {"viewcalitemId":"9"} | 3
        "#,
    );
}

#[test]
fn row4_calendars_split_and_filtered_keeping_keys() {
    check_table(
        r#"
        cal1          |  | tiki-calendar.php           | {"calIds":["1"]}              | 4
        cal1,2        |  | tiki-calendar.php           | {"calIds":["1","2"]}          | 4
        cal1,,2-Title |  | tiki-calendar.php           | {"calIds":{"0":"1","2":"2"}}  | 4
        // "0" and "" are falsy and dropped; "00" is not.
        cal0,00,3,    |  | tiki-calendar.php           | {"calIds":{"1":"00","2":"3"}} | 4
        cal0          |  | tiki-calendar.php           | {"calIds":[]}                 | 4
        // `calendar` is row 1, `calevent` row 7: not calendars.
        calevent7     |  | tiki-calendar_edit_item.php | {"viewcalitemId":"7"}         | 7
        "#,
    );
    wiki_pages(&[(b"cal,1", b"cal,1"), (b"cal1x", b"cal1x")]);
}

#[test]
fn rows5_to_7_plain_ids() {
    check_table(
        r#"
        directory2         |  | tiki-directory_browse.php   | {"parent":"2"}            | 5
        dirlink2           |  | tiki-directory_redirect.php | {"siteId":"2"}            | 5
        faq2               |  | tiki-view_faq.php           | {"faqId":"2"}             | 5
        file2              |  | tiki-list_file_gallery.php  | {"galleryId":"2"}         | 5
        forum2             |  | tiki-view_forum.php         | {"forumId":"2"}           | 5
        forumthread8-Topic |  | tiki-view_forum_thread.php  | {"comments_parentId":"8"} | 6
        img4               |  | show_image.php              | {"id":"4"}                | 7
        image4             |  | show_image.php              | {"id":"4"}                | 7
        "#,
    );
    // Plain ids take no title.
    wiki_pages(&[(b"forum2-Title", b"forum2-Title"), (b"file2-x", b"file2-x")]);
}

#[test]
fn row8_image_scale() {
    check_table(r#"imagescale5/100 |  | show_image.php | {"id":"5","scalesize":"100"} | 8"#);
    wiki_pages(&[
        (b"imagescale5/", b"imagescale5/"),
        (b"imagescale/100", b"imagescale/100"),
        (b"imagescale5/100/", b"imagescale5/100/"),
    ]);
}

#[test]
fn row9_tracker_items() {
    check_table(
        r#"
        item7            |                      | tiki-view_tracker_item.php | {"itemId":"7"}                 | 9
        item7-Title-Here |                      | tiki-view_tracker_item.php | {"itemId":"7"}                 | 9
        item7            | itemId=9&trackerId=2 | tiki-view_tracker_item.php | {"itemId":"7","trackerId":"2"} | 9
        "#,
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
        let want = Some((target, format!(r#"{{"{key}":"3"}}"#), 10));
        assert_eq!(routed(format!("{prefix}3").as_bytes(), ""), want);
    }
    check_table(
        r#"
        newsletter4 |        | tiki-newsletters.php | {"nlId":"4","info":"1"} | 10
        nl4         |        | tiki-newsletters.php | {"nlId":"4","info":"1"} | 10
        // The query's `info` keeps its place and takes the constant's value.
        newsletter4 | info=0 | tiki-newsletters.php | {"info":"1","nlId":"4"} | 10
        "#,
    );
}

#[test]
fn row11_userinfo_view_has_a_leading_space() {
    check_table(
        r#"
        userinfo |            | tiki-view_tracker_item.php | {"view":" user"}         | 11
        userinfo | view=x&a=b | tiki-view_tracker_item.php | {"view":" user","a":"b"} | 11
        "#,
    );
}

#[test]
fn row12_downloads_with_empty_extras() {
    check_table(
        r#"
        dl5        |               | tiki-download_file.php | {"fileId":"5"}                | 12
        dl5        | fileId=9      | tiki-download_file.php | {"fileId":"5"}                | 12
        thumbnail5 |               | tiki-download_file.php | {"fileId":"5","thumbnail":""} | 12
        display5   |               | tiki-download_file.php | {"fileId":"5","display":""}   | 12
        preview5   |               | tiki-download_file.php | {"fileId":"5","preview":""}   | 12
        thumbnail5 | thumbnail=big | tiki-download_file.php | {"thumbnail":"","fileId":"5"} | 12
        "#,
    );
    wiki_pages(&[(b"dl5-report", b"dl5-report"), (b"DL5", b"DL5")]);
}

#[test]
fn row13_wiki_and_page_prefixes_are_not_decoded() {
    check_table(
        r#"
        wiki-Home%20Page |  | tiki-index.php | {"page":"Home%20Page"} | 13
        page-Home+Page   |  | tiki-index.php | {"page":"Home+Page"}   | 13
        wiki-notes.txt   |  | tiki-index.php | {"page":"notes.txt"}   | 13
        "#,
    );
    // `.+` needs a byte: `wiki-` alone is a page named "wiki-".
    wiki_pages(&[(b"wiki-", b"wiki-")]);
}

#[test]
fn row14_slideshow_is_url_decoded() {
    check_table(
        r#"
        show:Home%20Page |  | tiki-slideshow.php | {"page":"Home Page"} | 14
        show:A+B%2B      |  | tiki-slideshow.php | {"page":"A B+"}      | 14
        "#,
    );
    wiki_pages(&[(b"show:", b"show:")]);
}

#[test]
fn row15_sitemap_is_unanchored_and_its_dot_is_any_byte() {
    check_table(
        r#"
        sitemap.xml    |  | tiki-sitemap.php | {"file":"sitemap.xml"}    | 15
        Convert-to-xml |  | tiki-sitemap.php | {"file":"Convert-to-xml"} | 15
        // Unanchored at the start: the match begins after the last `/`.
        a/b/c.xml      |  | tiki-sitemap.php | {"file":"c.xml"}          | 15
        // ... and the `.` may itself be a `/`.
        a/xml          |  | tiki-sitemap.php | {"file":"a\/xml"}         | 15
        "#,
    );
    wiki_pages(&[
        (b"/xml", b"/xml"),
        (b"xml", b"xml"),
        (b"a.XML", b"a.XML"),
        (b"a.xmlx", b"a.xmlx"),
    ]);
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
    check_table(
        r#"
        tiki-my-page   |  | tiki-ajax_services.php | {"controller":"my","action":"page"} | 16
        tiki-tracker-x |  | tiki-ajax_services.php | {"controller":"tracker"}            | 16
        tiki-a_1-B_2   |  | tiki-ajax_services.php | {"controller":"a_1","action":"B_2"} | 16
        tiki-t-X       |  | tiki-ajax_services.php | {"controller":"t","action":"X"}     | 16
        // `tiki-check` is row 1, `tiki-check-x` is not.
        tiki-check-x   |  | tiki-ajax_services.php | {"controller":"check"}              | 16
        "#,
    );
    // Three parts, empty parts or non-word bytes fall through.
    wiki_pages(&[
        (b"tiki-a-b-c", b"tiki-a-b-c"),
        (b"tiki--b", b"tiki--b"),
        (b"tiki-a-", b"tiki-a-"),
        (b"tiki-a-b%20", b"tiki-a-b "),
    ]);
    assert_eq!(row_of("tiki-é-x".as_bytes()), Some(CATCH_ALL_ROW));
}

#[test]
fn row17_api_route_is_raw() {
    check_table(
        r#"
        api/tracker/items | x=1 | tiki-api.php | {"x":"1","route":"tracker\/items"} | 17
        api/              |     | tiki-api.php | {"route":""}                       | 17
        api/a%20b.php     |     | tiki-api.php | {"route":"a%20b.php"}              | 17
        "#,
    );
    wiki_pages(&[(b"API/x", b"API/x")]);
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
    wiki_pages(&[
        (b"Diagram.PNG", b"Diagram.PNG"),
        (b"a.txt.bak", b"a.txt.bak"),
        (b"Release%2024.1", b"Release 24.1"),
        (b"a.txt/b", b"a.txt/b"),
        (b"a.", b"a."),
        // An encoded dot is not a dot to route.php (it looks at the raw path).
        (b"Notes%2Etxt", b"Notes.txt"),
        // A final newline hides the extension (the stop compares "txt\n").
        (b"Notes.txt\n", b"Notes.txt"),
    ]);
}

#[test]
fn catch_all_url_decodes_the_whole_path() {
    wiki_pages(&[
        (b"HomePage", b"HomePage"),
        (b"Home%20Page", b"Home Page"),
        (b"Home+Page", b"Home Page"),
        (b"A%2BB", b"A+B"),
        (b"Discount%2550", b"Discount%50"),
        (b"Foo%2FBar", b"Foo/Bar"),
        (b"50%", b"50%"),
        (b"%C3%A9t%C3%A9", "été".as_bytes()),
        (b"%FF%00", b"\xff\0"),
        (b"HomePage/", b"HomePage/"),
        (b"/HomePage", b"/HomePage"),
        (b"./HomePage", b"./HomePage"),
        (b"../x", b"../x"),
        // `.*` stops at the first newline (only the decoded form can carry one).
        (b"Foo\nBar", b"Foo"),
        (b"\nBar", b""),
    ]);
}

#[test]
fn empty_path_is_the_catch_all_with_an_empty_page() {
    // route.php itself: no rule matches "", there is no dot, custom routes are skipped for an
    // empty path, and `|.*|` matches the empty string. (Web servers never send it: see
    // `Below::Root`.)
    check_table(
        r#"
         |            | tiki-index.php | {"page":""}         | 18
         | page=X&5=y | tiki-index.php | {"page":"","0":"y"} | 18
        "#,
    );
}

#[test]
fn dollar_matches_before_a_final_newline() {
    check_table(
        r#"
        articles\n      |  | tiki-view_articles.php | []                              | 1
        dl5\n           |  | tiki-download_file.php | {"fileId":"5"}                  | 12
        art5-x\n        |  | tiki-read_article.php  | {"articleId":"5"}               | 2
        wiki-A\n        |  | tiki-index.php         | {"page":"A"}                    | 13
        api/x\n         |  | tiki-api.php           | {"route":"x"}                   | 17
        tiki-a-b\n      |  | tiki-ajax_services.php | {"controller":"a","action":"b"} | 16
        imagescale1/2\n |  | show_image.php         | {"id":"1","scalesize":"2"}      | 8
        cal1,2\n        |  | tiki-calendar.php      | {"calIds":["1","2"]}            | 4
        "#,
    );
    // Only one final newline, and only at the end.
    wiki_pages(&[
        (b"dl5\n\n", b"dl5"),
        (b"art5-x\ny", b"art5-x"),
        (b"wiki-\n", b"wiki-"),
    ]);
}

// ---------------------------------------------------------------------------------------------
// array_merge

#[test]
fn merge_renumbers_integer_keys_and_keeps_string_key_places() {
    check_table(
        r#"
        HomePage | 5=x&7=y                      | tiki-index.php         | {"0":"x","1":"y","page":"HomePage"}                | 18
        HomePage | page=Other                   | tiki-index.php         | {"page":"HomePage"}                                | 18
        HomePage | TOKEN=abc&foo=bar            | tiki-index.php         | {"TOKEN":"abc","foo":"bar","page":"HomePage"}      | 18
        // Nested arrays are taken as they are.
        H        | b=1&-3=n&page=x&a[5]=y&a[]=z | tiki-index.php         | {"b":"1","0":"n","page":"H","a":{"5":"y","6":"z"}} | 18
        dl1      | 9=a&3=b&100=c                | tiki-download_file.php | {"0":"a","1":"b","2":"c","fileId":"1"}             | 12
        "#,
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
        assert!(t.ends_with(".php") && !t.contains('/'), "{t}");
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

#[test]
fn tracker_field_cost_is_bounded() {
    // A pattern whose capture search is slow: still quick on a short path, and a long path is
    // not evaluated at all (may match).
    let slow = br"/^((\w{1,50}){1,20})+(a)$/";
    let start = std::time::Instant::now();
    assert_eq!(custom(slow, &[b'a'; 4096]), Some(true));
    assert_eq!(custom(slow, &[b'a'; 65536]), Some(false));
    assert_eq!(custom(br"/^(a)$/", &[b'a'; 4097]), Some(false));
    assert_eq!(custom(br"/^(b)$/", &[b'a'; 4096]), None);
    // Unoptimised builds run the regex engine some 50 times slower.
    let bound = if cfg!(debug_assertions) { 30 } else { 2 };
    let took = start.elapsed();
    assert!(took < std::time::Duration::from_secs(bound), "{took:?}");
}
