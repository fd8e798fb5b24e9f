//! Running one scenario on each backend: an `async fn(Backend)` becomes a module of tests, one
//! per backend, named after it.

/// Runs each named scenario (an `async fn(Backend)`) as two tests: `<scenario>::sqlite` and
/// `<scenario>::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                #[::actix_rt::test]
                async fn sqlite() {
                    super::$scenario($crate::Backend::Sqlite).await
                }

                #[::actix_rt::test]
                async fn postgres() {
                    super::$scenario($crate::Backend::Postgres).await
                }
            }
        )+
    };
}

/// Runs each named scenario (an `async fn(Backend)`) as three tests: `<scenario>::sqlite`,
/// `<scenario>::postgres` (both on the embedded bus) and `<scenario>::kafka_postgres`.
#[macro_export]
macro_rules! on_all_backends {
    ($($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                #[::actix_rt::test]
                async fn sqlite() {
                    super::$scenario($crate::Backend::Sqlite).await
                }

                #[::actix_rt::test]
                async fn postgres() {
                    super::$scenario($crate::Backend::Postgres).await
                }

                #[::actix_rt::test]
                async fn kafka_postgres() {
                    super::$scenario($crate::Backend::KafkaPostgres).await
                }
            }
        )+
    };
}
