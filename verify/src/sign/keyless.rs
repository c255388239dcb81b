//! Keyless signing: sigstore-sign's signer with the instance's services and an identity
//! token, over a file (streamed) or a bare digest.

use super::signing_error;
use crate::bundle::Input;
use crate::instance::Instance;
use crate::{Result, io};
use sigstore_sign::oidc::IdentityToken;
use sigstore_sign::types::{Artifact, Bundle, Sha256Hash};

/// Sign `input` keylessly with `instance`'s services.
pub async fn sign_input(
    instance: &Instance,
    token: IdentityToken,
    input: &Input,
) -> Result<Bundle> {
    let signer = instance.signing_context()?.signer(token);
    match input {
        Input::File(path) => {
            let file = std::fs::File::open(path).map_err(io(path))?;
            signer.sign_reader(std::io::BufReader::new(file)).await
        }
        Input::Digest(d) => {
            signer
                .sign(Artifact::from_digest(Sha256Hash::new(*d)))
                .await
        }
    }
    .map_err(signing_error)
}
