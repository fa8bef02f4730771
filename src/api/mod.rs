//! The custom resource types of group `integration.egov.kz/v1alpha1` (DESIGN §2).

pub mod common;
pub mod information_system;
pub mod integration_service;
pub mod service_connection;
pub mod tech_window;
pub mod validation;

pub use common::*;
pub use information_system::*;
pub use integration_service::*;
pub use service_connection::*;
pub use tech_window::*;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// Every CRD of the operator, in a fixed order.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        InformationSystem::crd(),
        IntegrationService::crd(),
        ServiceConnection::crd(),
        TechWindow::crd(),
    ]
}
