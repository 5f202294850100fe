use super::*;
use proptest::prelude::*;
use std::sync::Arc;

#[test]
fn integers_as_python_msgpack_writes_them() {
    let cases: &[(i64, &[u8])] = &[
        (0, &[0x00]),
        (127, &[0x7f]),
        (128, &[0xcc, 0x80]),
        (255, &[0xcc, 0xff]),
        (256, &[0xcd, 1, 0]),
        (-1, &[0xff]),
        (-32, &[0xe0]),
        (-33, &[0xd0, 0xdf]),
        (-129, &[0xd1, 0xff, 0x7f]),
        (1 << 32, &[0xcf, 0, 0, 0, 1, 0, 0, 0, 0]),
    ];
    for (i, bytes) in cases {
        assert_eq!(packed(&Value::Int(*i)), *bytes, "{i}");
        assert_eq!(unpack(bytes).unwrap(), Value::Int(*i));
    }
}

#[test]
fn lying_lengths_are_refused() {
    assert!(unpack(&[0xdd, 0xff, 0xff, 0xff, 0xff]).is_err());
    assert!(unpack(&[0xdb, 0, 0, 0, 9, b'a']).is_err());
    assert!(unpack(&[0xc7, 1, 1, 0]).is_err());
    let deep = vec![0x91u8; 1000];
    assert!(unpack(&deep).is_err());
    assert!(unpack(&[0x01, 0x02]).is_err());
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        (i64::MAX as u64 + 1..=u64::MAX).prop_map(Value::UInt),
        ".{0,40}".prop_map(|s| Value::str(&s)),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| Value::Bin(Arc::from(b))),
    ];
    leaf.prop_recursive(4, 64, 20, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..20).prop_map(Value::list),
            proptest::collection::vec((inner.clone(), inner), 0..20)
                .prop_map(|m| Value::Map(Arc::from(m))),
        ]
    })
}

proptest! {
    #[test]
    fn round_trip(v in value()) {
        prop_assert_eq!(unpack(&packed(&v)).unwrap(), v);
    }

    #[test]
    fn any_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = unpack(&data);
    }
}
