//! RPC targets: the bytes a kvnode server (or a client) reads from a TCP
//! connection. `rpc_stream` is a whole connection: the 14-byte handshake,
//! then length-prefixed frames read with `read_frame`; `rpc_frame` is one
//! frame body. Every decoded frame goes on to the payload a node or client
//! decodes next (a `ClientRequest`, a `ClientResponse`, the status JSON), and
//! whatever decodes must re-encode to bytes that decode to the same value.

use std::cell::RefCell;

use faultline_kvnode::kv::{Op, Reply};
use faultline_kvnode::node::{
    AdminRequest, AdminResponse, ClientRequest, ClientResponse, NodeStatus,
};
use faultline_kvnode::rpc::{
    Frame, HANDSHAKE_LEN, Identity, LEN_PREFIX, PROTOCOL_VERSION, decode_frame, decode_handshake,
    decode_payload, encode_frame, encode_handshake, encode_payload, read_frame,
};
use faultline_raft::{Entry, EntryKind, Message, MessageBody, Snapshot, SnapshotMeta};

use super::{InputKind, Target};

/// The largest frame the stream target accepts: small, so a hostile length
/// prefix costs little, and long inputs still reach `FrameTooLarge`.
const MAX_FRAME: u32 = 64 * 1024;

pub const STREAM: Target = Target {
    name: "rpc_stream",
    about: "a connection's bytes: decode_handshake, then read_frame + decode_frame + payloads until the end",
    kind: InputKind::Binary,
    run: run_stream,
    seeds: stream_seeds,
    dictionary: BINARY_TOKENS,
    short_inputs: 20_000,
};

pub const FRAME: Target = Target {
    name: "rpc_frame",
    about: "one frame body: decode_frame, then the ClientRequest / ClientResponse / status JSON inside",
    kind: InputKind::Binary,
    run: decode_body,
    seeds: frame_seeds,
    dictionary: BINARY_TOKENS,
    short_inputs: 30_000,
};

thread_local! {
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

fn run_stream(data: &[u8]) {
    let split = data.len().min(HANDSHAKE_LEN);
    let (hello, mut rest) = data.split_at(split);
    if let Ok(hello) = <[u8; HANDSHAKE_LEN]>::try_from(hello)
        && let Ok(who) = decode_handshake(&hello)
    {
        assert_eq!(
            decode_handshake(&encode_handshake(who, PROTOCOL_VERSION)).ok(),
            Some(who),
            "a decoded handshake does not round-trip"
        );
    }
    RUNTIME.with(|cell| {
        let mut slot = cell.borrow_mut();
        let rt = slot.get_or_insert_with(|| {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("cannot build a tokio runtime")
        });
        rt.block_on(async {
            loop {
                match read_frame(&mut rest, MAX_FRAME, "fuzz").await {
                    Ok(Some(body)) => {
                        assert!(body.len() <= MAX_FRAME as usize, "a frame over the maximum");
                        decode_body(&body);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        assert!(!e.to_string().is_empty());
                        break;
                    }
                }
            }
        });
    });
}

/// Decode one frame body and what it carries; check that decoded values
/// round-trip through the encoder.
fn decode_body(body: &[u8]) {
    let frame = match decode_frame(body) {
        Ok(frame) => frame,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let mut again = Vec::new();
    encode_frame(&frame, u32::MAX, &mut again).expect("a decoded frame must re-encode");
    assert_eq!(
        decode_frame(&again[LEN_PREFIX..]).expect("a re-encoded frame must decode"),
        frame,
        "a frame does not round-trip"
    );
    match &frame {
        Frame::Request { payload, .. } => round_trip::<ClientRequest>(payload),
        Frame::Response { payload, .. } => {
            round_trip::<ClientResponse>(payload);
            round_trip::<AdminResponse>(payload);
        }
        Frame::AdminRequest { payload, .. } => round_trip::<AdminRequest>(payload),
        Frame::StatusResponse { json, .. } => {
            let _ = serde_json::from_str::<NodeStatus>(json);
        }
        Frame::Raft(_) | Frame::StatusRequest { .. } => {}
    }
}

fn round_trip<T>(payload: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    if let Ok(value) = decode_payload::<T>(payload) {
        let bytes = encode_payload(&value).expect("a decoded payload must re-encode");
        assert_eq!(
            decode_payload::<T>(&bytes).expect("a re-encoded payload must decode"),
            value,
            "a payload does not round-trip"
        );
    }
}

fn entry(index: u64, data: &[u8]) -> Entry {
    Entry {
        term: 2,
        index,
        kind: if data.is_empty() {
            EntryKind::Noop
        } else {
            EntryKind::Normal
        },
        data: data.to_vec(),
    }
}

fn frames() -> Vec<Frame> {
    let msg = |body| Message {
        from: 1,
        to: 2,
        term: 3,
        body,
    };
    let request = |op| ClientRequest {
        client_id: 7,
        seq: 42,
        op,
    };
    vec![
        Frame::Raft(vec![
            msg(MessageBody::PreVote {
                last_log_index: 10,
                last_log_term: 2,
            }),
            msg(MessageBody::RequestVoteResponse { reject: true }),
            msg(MessageBody::AppendEntries {
                prev_log_index: 4,
                prev_log_term: 2,
                entries: vec![entry(5, b"put k v"), entry(6, b"")],
                commit: 5,
            }),
            msg(MessageBody::AppendEntriesResponse {
                reject: true,
                index: 4,
                hint: Some((1, 3)),
            }),
            msg(MessageBody::Heartbeat {
                commit: 6,
                ctx: Some(vec![1, 2, 3]),
            }),
            msg(MessageBody::HeartbeatResponse { ctx: None }),
            msg(MessageBody::InstallSnapshot {
                snapshot: Snapshot {
                    meta: SnapshotMeta {
                        index: 9,
                        term: 2,
                        voters: vec![1, 2, 3],
                        learners: Vec::new(),
                    },
                    data: b"state".to_vec(),
                },
            }),
        ]),
        Frame::Request {
            id: 1,
            payload: payload(&request(Op::Get { key: "k1".into() })),
        },
        Frame::Request {
            id: 2,
            payload: payload(&request(Op::Cas {
                key: "k1".into(),
                expected: Some("a".into()),
                new: "b".into(),
            })),
        },
        Frame::Request {
            id: 3,
            payload: payload(&request(Op::Append {
                key: "k2".into(),
                value: "x".into(),
            })),
        },
        Frame::Response {
            id: 2,
            payload: payload(&ClientResponse::Ok(Reply::Cas {
                applied: true,
                current: Some("b".into()),
            })),
        },
        Frame::Response {
            id: 3,
            payload: payload(&ClientResponse::NotLeader { leader: Some(2) }),
        },
        Frame::Response {
            id: 4,
            payload: payload(&ClientResponse::Unavailable("stopping".into())),
        },
        Frame::StatusRequest { id: 5 },
        Frame::StatusResponse {
            id: 5,
            json: serde_json::to_string(&NodeStatus {
                id: 1,
                group: 0,
                role: "leader".into(),
                term: 3,
                leader: Some(1),
                commit: 6,
                applied: 6,
                last_log_index: 6,
                snapshot_index: 0,
                voters: Vec::new(),
                config_num: 0,
                shards: vec![1, 2],
                wall_clock_ms: 1_700_000_000_000,
            })
            .expect("status JSON"),
        },
    ]
}

fn payload<T: serde::Serialize>(value: &T) -> Vec<u8> {
    encode_payload(value).expect("seed payload")
}

fn frame_seeds() -> Vec<Vec<u8>> {
    frames()
        .iter()
        .map(|f| {
            let mut out = Vec::new();
            encode_frame(f, u32::MAX, &mut out).expect("seed frame");
            out.split_off(LEN_PREFIX)
        })
        .collect()
}

fn stream_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for who in [Identity::Peer(2), Identity::Client(99)] {
        let mut out = encode_handshake(who, PROTOCOL_VERSION).to_vec();
        for f in frames() {
            encode_frame(&f, MAX_FRAME, &mut out).expect("seed frame");
        }
        seeds.push(out);
    }
    let mut one = encode_handshake(Identity::Client(1), PROTOCOL_VERSION).to_vec();
    encode_frame(&Frame::StatusRequest { id: 1 }, MAX_FRAME, &mut one).expect("seed frame");
    seeds.push(one);
    seeds
}

/// Tokens for binary formats: bincode varint markers with hostile values
/// (251: u16 follows, 252: u32, 253: u64, 254: u128), big-endian and
/// little-endian lengths, magics.
pub(super) const BINARY_TOKENS: &[&[u8]] = &[
    &[0],
    &[1],
    &[250],
    &[251, 0xff, 0xff],
    &[252, 0xff, 0xff, 0xff, 0xff],
    &[252, 0, 0, 0, 0x80],
    &[253, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    &[253, 0, 0, 0, 0, 1, 0, 0, 0],
    &[253, 0, 0, 0, 0, 0, 1, 0, 0],
    &[253, 0, 0, 0, 0, 0, 0, 0, 0x80],
    &[
        254, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1,
    ],
    &[0xff, 0xff, 0xff, 0xff],
    &[0x7f, 0xff, 0xff, 0xff],
    &[0, 0, 0, 0],
    &[0, 0, 0x10, 0],
    &[0, 1, 0, 0],
    &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    &[0, 0, 0, 0, 0, 0, 0, 0x80],
    b"FLRP",
    b"FLRP\x01\x00",
    b"FLHARD01",
    b"FLSNAP01",
    &[0xc3, 0x28],
];
