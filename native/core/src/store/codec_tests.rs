use super::*;
use crate::model::schema::kind;

#[test]
fn a_block_round_trips() {
    let mut a = Event::new(100, kind::OOM_KILL, Some(3163))
        .with("comm", "a.out")
        .with("points", 900);
    a.src = Some((0, 12));
    a.set_inferred([Str::from("points")]);
    a.set("custom", Value::Int(7));
    let b = Event::new(150, kind::LOG, None).with("text", "hello");
    let mut out = Vec::new();
    block_payload(40, &[a.clone(), b.clone()], &mut out);
    let block = EventBlock::decode(&out, &Schema::current(), "t").unwrap();
    assert_eq!(block.len(), 2);
    let mut a2 = block.event(0);
    assert_eq!(a2.seq, Some(40));
    a2.seq = None;
    assert_eq!(a2, a);
    assert_eq!(block.event(1).get("text"), &Value::str("hello"));
    assert_eq!(block.ts, vec![100, 150]);
    assert_eq!(block.values(1), &[Value::str("hello")]);
}

#[test]
fn an_older_schema_is_read_by_name() {
    // a file whose `task` kind had its fields in another order and one more field
    let mut names: Vec<Str> = KINDS.iter().map(|(k, _)| Str::from(*k)).collect();
    let mut fields: Vec<Vec<Str>> = KINDS
        .iter()
        .map(|(_, f)| f.iter().map(|x| Str::from(*x)).collect())
        .collect();
    fields[0] = vec![Str::from("comm"), Str::from("gone"), Str::from("tgid")];
    names.truncate(26);
    let schema = Schema::new(names, fields).unwrap();
    assert!(!schema.is_current());
    let e = Event::new(5, kind::TASK, Some(1))
        .with("comm", "x")
        .with("tgid", 1);
    // written in the old layout by hand
    let old = Event {
        values: vec![Value::str("x"), Value::Int(9), Value::Int(1)],
        ..e.clone()
    };
    let mut out = Vec::new();
    block_payload(0, &[old], &mut out);
    let block = EventBlock::decode(&out, &schema, "t").unwrap();
    let got = block.event(0);
    assert_eq!(got.get("comm"), &Value::str("x"));
    assert_eq!(got.get("tgid"), &Value::Int(1));
    assert_eq!(got.get("gone"), &Value::Int(9));
}
