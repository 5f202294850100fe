use super::*;
use crate::model::value::{Str, Value};
use std::sync::Mutex;

fn rec(s: &str) -> Rec {
    Arc::from(vec![Value::str(s)])
}

struct Pages(BTreeMap<i64, Page>, Mutex<Vec<i64>>);

impl PageSource for Pages {
    fn load(&self, r: &PageRef) -> Result<Arc<Page>> {
        self.1.lock().unwrap().push(r.k);
        Ok(Arc::new(self.0[&r.k].clone()))
    }
}

struct Index(Vec<i64>);

impl UnreadIndex for Index {
    fn get(&self, page: i64) -> Result<Option<PageRef>> {
        Ok(self.0.contains(&page).then_some(PageRef {
            k: page,
            slot: 0,
            patch: None,
        }))
    }
    fn all(&self) -> Result<Vec<(i64, PageRef)>> {
        Ok(self
            .0
            .iter()
            .map(|p| {
                (
                    *p,
                    PageRef {
                        k: *p,
                        slot: 0,
                        patch: None,
                    },
                )
            })
            .collect())
    }
}

fn lazy_table() -> (Table, Arc<Pages>) {
    let mut pages = BTreeMap::new();
    pages.insert(
        0,
        Page::from([(Key::Int(1), rec("a")), (Key::Int(2), rec("b"))]),
    );
    pages.insert(1, Page::from([(Key::Int(16), rec("p"))]));
    let source = Arc::new(Pages(pages, Mutex::new(vec![])));
    (
        Table::lazy(Paging::Int, 3, source.clone(), Arc::new(Index(vec![0, 1]))),
        source,
    )
}

#[test]
fn known_records_need_no_page() {
    let (mut t, source) = lazy_table();
    t.know(
        0,
        BTreeMap::from([(Key::Int(1), Some(rec("A"))), (Key::Int(4), None)]),
    )
    .unwrap();
    assert_eq!(t.get(&Key::Int(1)).unwrap(), Some(rec("A")));
    assert_eq!(t.get(&Key::Int(4)).unwrap(), None);
    t.set(Key::Int(4), rec("d")).unwrap();
    assert_eq!(t.len(), 4);
    assert!(source.1.lock().unwrap().is_empty());
    assert_eq!(t.get(&Key::Int(2)).unwrap(), Some(rec("b")));
    assert_eq!(*source.1.lock().unwrap(), vec![0]);
    let keys: Vec<Key> = t.keys().unwrap();
    assert_eq!(
        keys,
        vec![Key::Int(1), Key::Int(2), Key::Int(4), Key::Int(16)]
    );
}

#[test]
fn copies_share_until_written() {
    let mut a = Table::new(Paging::Int);
    a.set(Key::Int(1), rec("a")).unwrap();
    a.set(Key::Int(40), rec("x")).unwrap();
    let mut b = a.clone();
    b.set(Key::Int(1), rec("b")).unwrap();
    assert_eq!(a.get(&Key::Int(1)).unwrap(), Some(rec("a")));
    assert_eq!(a.changed_keys(&b).unwrap(), Some(vec![Key::Int(1)]));
    b.delete(&Key::Int(40)).unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(
        a.changed_keys(&b).unwrap(),
        Some(vec![Key::Int(1), Key::Int(40)])
    );
}

#[test]
fn a_kept_digest_is_the_computed_one_whatever_the_order() {
    let mut a = Table::hashed(Paging::Int);
    a.set(Key::Int(1), rec("a")).unwrap();
    a.set(Key::Int(40), rec("x")).unwrap();
    a.set(Key::Int(1), rec("b")).unwrap();
    let mut b = Table::hashed(Paging::Int);
    b.set(Key::Int(7), rec("z")).unwrap();
    b.set(Key::Int(40), rec("x")).unwrap();
    b.set(Key::Int(1), rec("b")).unwrap();
    b.delete(&Key::Int(7)).unwrap();
    let mut plain = Table::new(Paging::Int);
    plain.set(Key::Int(40), rec("x")).unwrap();
    plain.set(Key::Int(1), rec("b")).unwrap();
    assert_eq!(a.digest().unwrap(), b.digest().unwrap());
    assert_eq!(a.digest().unwrap(), plain.digest().unwrap());
    b.set(Key::Int(1), rec("c")).unwrap();
    assert_ne!(a.digest().unwrap(), b.digest().unwrap());
}

#[test]
fn a_deleted_page_stays_gone() {
    let (mut t, _) = lazy_table();
    t.delete(&Key::Int(16)).unwrap();
    assert_eq!(t.get(&Key::Int(16)).unwrap(), None);
    assert_eq!(t.len(), 2);
    assert_eq!(t.keys().unwrap(), vec![Key::Int(1), Key::Int(2)]);
}

#[test]
fn writer_tables_remember_the_old_values() {
    let mut t = Table::writer(Paging::Int);
    t.set(Key::Int(1), rec("a")).unwrap();
    t.dirty.as_mut().unwrap().clear();
    t.set(Key::Int(1), rec("b")).unwrap();
    t.set(Key::Int(1), rec("c")).unwrap();
    t.set(Key::Int(2), rec("x")).unwrap();
    t.delete(&Key::Int(2)).unwrap();
    let dirty = t.dirty.as_ref().unwrap();
    assert_eq!(dirty[&Key::Int(1)], Some(rec("a")));
    assert_eq!(dirty[&Key::Int(2)], None);
    assert_eq!(t.len(), 1);
}

#[test]
fn string_pages_match_python() {
    // zlib.crc32(b"mmap_lock") & 0xF, and of repr((0, 'Normal')), computed by CPython
    assert_eq!(
        Paging::Str.page_of(&Key::Str(Str::from("mmap_lock"))),
        (crc32fast::hash(b"mmap_lock") & 15) as i64
    );
    assert_eq!(
        Paging::Tuple.page_of(&Key::Zone(0, Str::from("Normal"))),
        (crc32fast::hash(b"(0, 'Normal')") & 15) as i64
    );
}
