//! The user at the step-up prompt, and the helpers of its tests.

use super::*;

/// The user at the prompt: gives the passwords it was told to, in order
/// (`None` cancels), and remembers what it was shown.
#[derive(Clone, Default)]
pub(super) struct FakeUser(pub(super) Rc<FakeUserState>);

#[derive(Default)]
pub(super) struct FakeUserState {
    pub(super) answers: RefCell<std::collections::VecDeque<Option<Proof>>>,
    /// The refusal shown with each question.
    pub(super) asked: RefCell<Vec<Option<ClientError>>>,
    pub(super) finished: Cell<usize>,
    /// Typing takes so long that the access token expires meanwhile.
    pub(super) slow_typist_of: RefCell<Option<Fake>>,
}

impl FakeUser {
    pub(super) fn answering(answers: &[Option<&str>]) -> Self {
        let user = Self::default();
        *user.0.answers.borrow_mut() = answers
            .iter()
            .map(|answer| {
                answer.map(|password| {
                    ReauthenticateRequest {
                        password: password.to_owned(),
                        code: None,
                    }
                    .into()
                })
            })
            .collect();
        user
    }

    /// Answers with the password and then, asked again, with the code too.
    pub(super) fn with_second_factor(password: &str, code: &str) -> Self {
        let user = Self::default();
        let first = ReauthenticateRequest {
            password: password.to_owned(),
            code: None,
        };
        let second = ReauthenticateRequest {
            code: Some(code.to_owned()),
            ..first.clone()
        };
        *user.0.answers.borrow_mut() = [Some(first.into()), Some(second.into())]
            .into_iter()
            .collect();
        user
    }

    pub(super) fn asked(&self) -> Vec<Option<ClientError>> {
        self.0.asked.borrow().clone()
    }

    pub(super) fn finished(&self) -> usize {
        self.0.finished.get()
    }
}

impl Reauthenticator for FakeUser {
    fn ask(&self, refused: Option<ClientError>) -> ReauthAnswer {
        self.0.asked.borrow_mut().push(refused);
        if let Some(fake) = self.0.slow_typist_of.borrow().as_ref() {
            fake.expire_tokens();
        }
        let answer = self.0.answers.borrow_mut().pop_front().flatten();
        async move {
            // The user takes a moment: other requests go on meanwhile.
            YieldOnce::default().await;
            YieldOnce::default().await;
            answer
        }
        .boxed_local()
    }

    fn finished(&self) {
        self.0.finished.set(self.0.finished.get() + 1);
    }
}

pub(super) fn signed_in_with(fake: &Fake, user: &FakeUser) -> ApiClient {
    let client = fake.client();
    client.set_reauthenticator(user.clone());
    login(&client);
    client
}

pub(super) async fn sensitive(
    client: &ApiClient,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, ClientError> {
    call(client, path, Credentials::RecentBearer, body).await
}

pub(super) fn passkey_answer(challenge_id: &str) -> Option<Proof> {
    let assertion = PasskeyAssertion {
        challenge_id: challenge_id.to_owned(),
        ..PasskeyAssertion::default()
    };
    Some(Proof::Passkey(PasskeyProof::new(&assertion).unwrap()))
}
