//! The custodia-dsr source protocol on arbitrary bytes, from both ends: a
//! server fed them as requests, a client fed them as a hello or as replies.
//! A typed error or a value, never a panic; every line a server writes back
//! decodes as a reply. The subject-level step's request and reply too.

#![no_main]

use custodia_core::{SubjectId, TenantId};
use custodia_dsr::remote::{
    RemoteSources, SourceServer, decode_hello, decode_reply, decode_request,
};
use custodia_dsr::{MemorySource, PersonalDataSource, RecordRef, SubjectStep};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = decode_request(&text);
    let _ = decode_reply(&text);
    let _ = decode_hello(&text);

    let source = MemorySource::new("tickets");
    let mut output = Vec::new();
    let _ = SourceServer::new(vec![&source as &dyn PersonalDataSource]).serve(data, &mut output);
    for line in output
        .split(|b| *b == b'\n')
        .skip(1)
        .filter(|l| !l.is_empty())
    {
        let line = std::str::from_utf8(line).expect("the server writes UTF-8");
        decode_reply(line).expect("the server writes replies");
    }

    let mut served =
        br#"{"protocol":"custodia.dsr.source","version":1,"sources":["tickets"],"directory":true,"subject_step":true}"#
            .to_vec();
    served.push(b'\n');
    served.extend_from_slice(data);
    let Ok(remote) = RemoteSources::connect(std::io::Cursor::new(served), std::io::sink()) else {
        panic!("a valid hello is accepted");
    };
    let tenant = TenantId::from_external_key("fuzz", "tenant");
    let subject = SubjectId::from_external_key(tenant, "fuzz", "subject");
    for source in remote.sources() {
        let _ = source.locate(tenant, subject);
        let _ = source.export(tenant, subject, &RecordRef::new("ticket", "1"));
        // The subject-level step's reply decoder (`SubjectOutcome`).
        let _ = source.subject_step(tenant, subject, &SubjectStep::Access);
    }
    let _ = custodia_dsr::remote::SubjectDirectory::find_subjects(&remote, tenant, "a@b.c");
    let _ = RemoteSources::connect(std::io::Cursor::new(data.to_vec()), std::io::sink());
});
